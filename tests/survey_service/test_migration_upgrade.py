"""Upgrading a database that holds data: the latest migration keeps every row of the schema
before it, readable through the current models; and migrations from now on only expand
(``docs/upgrades.md``) unless they declare ``CONTRACT = True``.

``test_migrations.py`` checks that the migrated schema is the models' schema; this file checks
what happens to data already there when a release's migration runs.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from ops_support import empty_database, screen_a_red_case
from sqlalchemy import MetaData, func, select
from svc_support import run

from survey_service.db import Base, create_engine, create_session_factory, upgrade
from survey_service.db._migrate import alembic_config

#: The head when the expand/contract rule was written (issue 14): every later migration follows
#: it. The ones up to here ran before any release was in use and are not checked.
RULE_SINCE = "0013"


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))


def _before_head() -> str:
    script = _script()
    head = script.get_current_head()
    assert head is not None, "the migrations have several heads: merge them"
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str), f"{head} has no single revision before it"
    return previous


def _read_all(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as column -> value (tables reflected from the database)."""

    def grab(sync: Any) -> dict[str, list[dict[str, Any]]]:
        metadata = MetaData()
        metadata.reflect(sync)
        return {
            name: [dict(row._mapping) for row in sync.execute(select(table))]
            for name, table in metadata.tables.items()
        }

    async def go() -> dict[str, list[dict[str, Any]]]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(grab)
        finally:
            await engine.dispose()

    return run(go())


def _fill(
    database_url: str, rows: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """Insert ``rows`` with SQLAlchemy Core into the tables as the database has them now (an
    older schema): only the columns it has; a table it lacks is skipped. Returns the rows as
    written (those columns only)."""
    written: dict[str, list[dict[str, Any]]] = {}

    def fill(sync: Any) -> None:
        metadata = MetaData()
        metadata.reflect(sync)
        for table in metadata.sorted_tables:  # parents before children (foreign keys)
            if table.name == "alembic_version" or not rows.get(table.name):
                continue
            names = set(table.columns.keys())
            for column in table.columns:
                needed = not column.nullable and column.server_default is None
                assert not needed or column.name in rows[table.name][0], (
                    f"{table.name}.{column.name} is required in the old schema but the current "
                    "one has no such column: a contract migration (see docs/upgrades.md)"
                )
            keep = [{k: v for k, v in r.items() if k in names} for r in rows[table.name]]
            written[table.name] = keep
            # A row a migration put there already (the audit chain's head) is updated in place.
            key = [c.name for c in table.primary_key.columns]
            there = {tuple(r) for r in sync.execute(select(*table.primary_key.columns))}
            for row in keep:
                if tuple(row[k] for k in key) in there:
                    match = [table.c[k] == row[k] for k in key]
                    sync.execute(table.update().where(*match).values(row))
            fresh = [r for r in keep if tuple(r[k] for k in key) not in there]
            if fresh:
                sync.execute(table.insert(), fresh)

    async def go() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(fill)
        finally:
            await engine.dispose()

    run(go())
    return written


async def _count_through_models(database_url: str) -> dict[str, int]:
    """Load every row of every mapped table as model instances; their count per table."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            counts: Counter[str] = Counter()
            for mapper in Base.registry.mappers:
                model = mapper.class_
                loaded = (await db.execute(select(model))).scalars().all()
                counts[model.__tablename__] += len(loaded)
                total = (await db.execute(select(func.count()).select_from(model))).scalar_one()
                assert len(loaded) == total, model.__name__
            return dict(counts)
    finally:
        await engine.dispose()


def _sorted(rows: list[dict[str, Any]], names: list[str]) -> list[tuple[Any, ...]]:
    return sorted((tuple(row[n] for n in names) for row in rows), key=repr)


def test_the_latest_migration_keeps_every_row(database_url: str, tmp_path: Path) -> None:
    # Real rows, made by the app at the current schema: the demo's districts, schools, classes,
    # students and staff, a student's responses and scores, a red case with its events,
    # notifications in the outbox and audit rows.
    screen_a_red_case(database_url)
    previous = _before_head()
    with empty_database(database_url, tmp_path) as old:
        upgrade(old, previous)
        before = _fill(old, _read_all(database_url))
        filled = [t for t, rows in before.items() if rows]
        assert {"schools", "students", "responses", "cases", "outbox", "audit_log"} <= set(filled)

        upgrade(old)  # to head, as `runxin db upgrade` does

        after = _read_all(old)
        through_models = run(_count_through_models(old))
    assert after["alembic_version"] == [{"version_num": _script().get_current_head()}]
    for table in filled:
        # Every row is still there with every value it had (on the columns it had).
        names = list(before[table][0])
        assert _sorted(after[table], names) == _sorted(before[table], names), table
        assert through_models.get(table) == len(before[table]), f"{table} through the models"


#: Operations in ``upgrade()`` that take away what the release still running may read or
#: write: allowed only in a migration marked ``CONTRACT = True`` (docs/upgrades.md).
_TAKES_AWAY = {"drop_column", "drop_table", "rename_table"}


def contract_operations(source: str) -> list[str]:
    """What the ``upgrade()`` of a migration's ``source`` does that is not expand-only: a drop
    or rename of a table or column, or a new NOT NULL column without a server default (the
    running release's INSERTs do not name it and would fail)."""
    tree = ast.parse(source)
    found: list[str] = []
    for function in tree.body:
        if not (isinstance(function, ast.FunctionDef) and function.name == "upgrade"):
            continue
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            keywords = {k.arg for k in node.keywords}
            if name in _TAKES_AWAY:
                found.append(f"line {node.lineno}: {name}")
            elif name == "alter_column" and "new_column_name" in keywords:
                found.append(f"line {node.lineno}: alter_column(new_column_name=...)")
            elif name == "add_column":
                for column in node.args:
                    if isinstance(column, ast.Call) and _not_null_without_default(column):
                        found.append(
                            f"line {node.lineno}: add_column of a NOT NULL column "
                            "without server_default"
                        )
    return sorted(found, key=lambda line: int(line.split(":", 1)[0].removeprefix("line ")))


def _not_null_without_default(column: ast.Call) -> bool:
    called = column.func
    if not (isinstance(called, ast.Attribute | ast.Name)) or (
        (called.attr if isinstance(called, ast.Attribute) else called.id) != "Column"
    ):
        return False
    keywords = {k.arg: k.value for k in column.keywords}
    nullable = keywords.get("nullable")
    not_null = isinstance(nullable, ast.Constant) and nullable.value is False
    return not_null and "server_default" not in keywords


def declares_contract(source: str) -> bool:
    """True when the module says ``CONTRACT = True`` at its top level."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            if "CONTRACT" in names and node.value.value is True:
                return True
    return False


def test_migrations_after_the_rule_only_expand_unless_marked_contract() -> None:
    script = _script()
    before_rule = {rev.revision for rev in script.iterate_revisions(RULE_SINCE, "base")}
    offenders = []
    for rev in script.walk_revisions():
        if rev.revision in before_rule:
            continue
        source = Path(rev.path).read_text(encoding="utf-8")
        found = contract_operations(source)
        if found and not declares_contract(source):
            offenders.append(f"{Path(rev.path).name}: {'; '.join(found)}")
    assert not offenders, (
        "a migration takes away what the running release may still use (expand/contract, "
        "docs/upgrades.md): add only nullable or defaulted columns, tables and indexes now, and "
        "remove things a release later in a migration that says `CONTRACT = True` and why: "
        + " | ".join(offenders)
    )


def test_the_expand_only_check_sees_what_it_must() -> None:
    expand = (
        "def upgrade():\n"
        "    op.add_column('t', sa.Column('a', sa.Text(), nullable=True))\n"
        "    op.add_column('t', sa.Column('b', sa.Boolean(), server_default=sa.false(), "
        "nullable=False))\n"
        "    op.create_table('u', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "def downgrade():\n"
        "    op.drop_table('u')\n"
        "    op.drop_column('t', 'a')\n"
    )
    contract = (
        "def upgrade():\n"
        "    with op.batch_alter_table('t') as batch_op:\n"
        "        batch_op.drop_column('old')\n"
        "        batch_op.alter_column('x', new_column_name='y')\n"
        "    op.add_column('t', sa.Column('c', sa.Text(), nullable=False))\n"
        "    op.drop_table('gone')\n"
    )
    assert contract_operations(expand) == []
    assert contract_operations(contract) == [
        "line 3: drop_column",
        "line 4: alter_column(new_column_name=...)",
        "line 5: add_column of a NOT NULL column without server_default",
        "line 6: drop_table",
    ]
    assert not declares_contract(contract)
    assert declares_contract('"""Drops t.old (unread since 0015)."""\nCONTRACT = True\n' + contract)
