"""Import a district roster of 200,000 students (issue 6), beside the database's own ceiling.

Run: .venv/bin/python benchmarks/bench_roster_import.py [--rows 200000] [--postgres URL]

For SQLite and PostgreSQL: generate a CSV roster (Chinese headers, 40 schools' worth of
students in one file for one school code, 12 grades × 50 classes), then time `import_roster`
(parse → plan → all-or-nothing apply) in a fresh process and report its peak memory (RSS).
The ceiling is a plain bulk INSERT of the same number of student rows through the same engine,
measured in the same run; the ratio is printed. Goal: under 60 s and 500 MB on both.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_roster(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "学号",
                "姓名",
                "性别",
                "出生日期",
                "年级",
                "班级",
                "监护人姓名",
                "监护人电话",
                "心理委员",
            ]
        )
        for i in range(rows):
            grade = i % 12 + 1
            w.writerow(
                [
                    f"B{i:07d}",
                    f"学生{i}",
                    "男" if i % 2 else "女",
                    f"{2020 - grade}-0{i % 9 + 1}-1{i % 9}",
                    str(grade),
                    f"{i // 12 % 50 + 1}班",
                    f"家长{i}",
                    f"138{i:08d}",
                    "是" if i % 25 == 0 else "否",
                ]
            )


CHILD = r"""
import asyncio, json, resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
from survey_service.db import create_engine, create_session_factory
from survey_service.campaigns.roster_import import import_roster

async def main(url, path):
    engine = create_engine(url)
    start = time.perf_counter()
    async with create_session_factory(engine)() as db, db.begin():
        report = await import_roster(db, school_code="BENCH-1", path=Path(path), apply=True,
                                     now=datetime.now(UTC))
    elapsed = time.perf_counter() - start
    await engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "rss_mb": rss, "errors": len(report.errors),
                      "created": report.counts.create if report.counts else 0}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def prepare(url: str) -> None:
    from survey_service.db import District, School, create_engine, create_session_factory

    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            district = District(code="BENCH", name="bench")
            db.add(district)
            await db.flush()
            db.add(
                School(
                    district_id=district.id, code="BENCH-1", name="bench", timezone="Asia/Shanghai"
                )
            )
    finally:
        await engine.dispose()


async def ceiling(url: str, rows: int) -> float:
    """Plain bulk INSERT of ``rows`` students (one class) through the same engine."""
    from sqlalchemy import insert, select

    from survey_service.db import School, SchoolClass, Student, create_engine
    from survey_service.db import create_session_factory as sessions

    engine = create_engine(url)
    try:
        async with sessions(engine)() as db, db.begin():
            school = (await db.scalars(select(School).where(School.code == "BENCH-1"))).one()
            klass = SchoolClass(id=uuid.uuid4(), school_id=school.id, grade=1, name="ceiling")
            db.add(klass)
            await db.flush()
            batch = [
                {
                    "id": uuid.uuid4(),
                    "school_id": school.id,
                    "class_id": klass.id,
                    "student_number": f"C{i:07d}",
                    "name": f"c{i}",
                    "gender": "male",
                    "status": "active",
                    "psychology_committee": False,
                }
                for i in range(rows)
            ]
            start = time.perf_counter()
            for i in range(0, rows, 5000):
                await db.execute(insert(Student), batch[i : i + 5000])
        return rows / (time.perf_counter() - start)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "RUNXIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    from survey_service.db import upgrade

    tmp = Path(tempfile.mkdtemp())
    roster = tmp / "district.csv"
    print(f"writing a {args.rows:,}-row roster…", flush=True)
    make_roster(roster, args.rows)
    print(f"roster: {roster.stat().st_size / 2**20:.1f} MiB", flush=True)
    targets = [("SQLite", f"sqlite:///{tmp}/import.db", f"sqlite:///{tmp}/ceiling.db")]
    pg_names: list[str] = []
    try:
        import asyncpg

        async def create(name: str) -> None:
            conn = await asyncpg.connect(args.postgres.replace("postgresql://", "postgres://"))
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        pg_names = [f"runxin_imp_{uuid.uuid4().hex[:8]}", f"runxin_ceil_{uuid.uuid4().hex[:8]}"]
        for name in pg_names:
            asyncio.run(create(name))
        base = args.postgres.rsplit("/", 1)[0]
        targets.append(("PostgreSQL", f"{base}/{pg_names[0]}", f"{base}/{pg_names[1]}"))
    except Exception as exc:
        print(f"PostgreSQL not measured: {exc}")
    print(
        f"{'database':<11} {'import s':>9} {'rows/s':>9} {'peak MB':>8} "
        f"{'ceiling rows/s':>15} {'× ceiling':>10}"
    )
    for name, url, ceiling_url in targets:
        upgrade(url)
        upgrade(ceiling_url)
        asyncio.run(prepare(url))
        asyncio.run(prepare(ceiling_url))
        out = subprocess.run(
            [sys.executable, "-c", CHILD, url, str(roster)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result["errors"] or result["created"] != args.rows:
            raise SystemExit(f"{name}: import failed: {result}")
        rate = args.rows / result["seconds"]
        ceil = asyncio.run(ceiling(ceiling_url, args.rows))
        print(
            f"{name:<11} {result['seconds']:>9.1f} {rate:>9,.0f} {result['rss_mb']:>8.0f} "
            f"{ceil:>15,.0f} {rate / ceil:>10.2f}",
            flush=True,
        )
    print("goal: under 60 s and under 500 MB on each database")
    if pg_names:
        import asyncpg

        async def drop() -> None:
            conn = await asyncpg.connect(args.postgres.replace("postgresql://", "postgres://"))
            for name in pg_names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())


if __name__ == "__main__":
    main()
