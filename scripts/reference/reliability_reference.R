# Reference values for scoring/reliability.py and scoring/dif.py from R psych and R stats.
#
# Run from the repository root (Debian: apt-get install r-base-core r-cran-psych
# r-cran-gparotation; psychTools comes with r-cran-psych):
#   Rscript scripts/reference/reliability_reference.R > /tmp/psych.json
# scripts/reference/reliability_reference.py runs this script and merges its JSON into
# tests/scoring/data/reliability_reference.json. It also (re)writes the example data it uses
# under tests/scoring/data/ (psych's documented example data sets, small):
#   bfi_agreeableness.csv  psychTools::bfi items A1-A5 (2800 respondents, 1-6, with NA)
#   ability.csv            psychTools::ability (1525 respondents, 16 binary items, with NA)
suppressPackageStartupMessages(library(psych))
data(bfi, package = "psychTools")
data(ability, package = "psychTools")
out_dir <- "tests/scoring/data"
agree <- bfi[, c("A1", "A2", "A3", "A4", "A5")]
write.csv(agree, file.path(out_dir, "bfi_agreeableness.csv"), row.names = FALSE, na = "")
write.csv(ability, file.path(out_dir, "ability.csv"), row.names = FALSE, na = "")

agree_keyed <- agree
agree_keyed$A1 <- 7 - agree_keyed$A1  # A1 is reverse keyed (psych's bfi.keys: -A1)

alpha_case <- function(x, use) {
  a <- psych::alpha(x, use = use, check.keys = FALSE, warnings = FALSE)
  n <- if (use == "pairwise") nrow(x) else sum(complete.cases(x))
  ci <- psych::alpha.ci(a$total$raw_alpha, n.obs = n, n.var = ncol(x), digits = 20)
  list(
    raw_alpha = a$total$raw_alpha,
    feldt_lower = ci$lower.ci, feldt_upper = ci$upper.ci, n = n,
    r_drop = unname(a$item.stats$r.drop),
    alpha_drop = unname(a$alpha.drop$raw_alpha),
    item_mean = unname(a$item.stats$mean),
    item_sd = unname(a$item.stats$sd),
    item_n = unname(a$item.stats$n),
    miss = unname(a$response.freq[, "miss"])
  )
}

omega_case <- function(x) {
  o <- suppressWarnings(suppressMessages(
    psych::omega(x, nfactors = 1, fm = "minres", plot = FALSE)
  ))
  f <- psych::fa(cor(x, use = "pairwise"), nfactors = 1, fm = "minres")
  lam <- as.numeric(f$loadings[, 1])
  if (sum(lam) < 0) lam <- -lam
  u2 <- 1 - lam^2
  list(
    omega_tot = o$omega.tot,
    loadings = lam,
    uniquenesses = u2,
    omega_model = sum(lam)^2 / (sum(lam)^2 + sum(u2))
  )
}

# Mantel-Haenszel on the seeded simulated DIF data written by reliability_reference.py.
mh_case <- function() {
  d <- read.csv(file.path(out_dir, "dif_simulated.csv"))
  items <- grep("^item", names(d), value = TRUE)
  res <- list()
  total <- rowSums(d[, items])
  for (it in items) {
    tab <- table(
      factor(d$group, levels = c("ref", "focal")),
      factor(d[[it]], levels = c(1, 0)),
      factor(total)
    )
    keep <- apply(tab, 3, function(s) sum(s) > 1 && sum(s[1, ]) > 0 && sum(s[2, ]) > 0)
    tab <- tab[, , keep, drop = FALSE]
    t1 <- mantelhaen.test(tab, correct = TRUE)
    t0 <- mantelhaen.test(tab, correct = FALSE)
    res[[it]] <- list(
      odds_ratio = unname(t1$estimate),
      chi2_corrected = unname(t1$statistic),
      chi2 = unname(t0$statistic),
      p_corrected = t1$p.value
    )
  }
  res
}

result <- list(
  source = paste("R", R.version$major, ".", R.version$minor, " psych ",
                 as.character(packageVersion("psych")), sep = ""),
  bfi_agreeableness = list(
    keyed = "A1 reversed as 7 - A1",
    alpha_pairwise = alpha_case(agree_keyed, "pairwise"),
    alpha_listwise = alpha_case(agree_keyed, "complete.obs"),
    omega_keyed = omega_case(agree_keyed),
    omega_raw = omega_case(agree)
  ),
  ability = list(
    alpha_pairwise = alpha_case(ability, "pairwise"),
    omega = omega_case(ability)
  ),
  mantel_haenszel = mh_case()
)
cat(jsonlite::toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE))
