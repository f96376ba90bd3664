"""Page text of the feature slices, one module per slice (issue 13): each defines ``TEXT``
(``{"zh-CN": {...}, "en": {...}}``) and ``LABELS`` (group -> code -> (zh-CN, en)), and
``pages.i18n`` merges them into its tables, refusing a key defined twice."""
