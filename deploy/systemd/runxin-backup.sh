#!/bin/bash
# Runxin 润心 — one backup named by date, then delete the backups older than KEEP_DAYS days.
# Run by runxin-backup.service (nightly, from runxin-backup.timer) as the runxin user, with
# /etc/runxin/runxin.env in the environment (RUNXIN_DATABASE_URL says what to back up).
# Install: install -m 0755 deploy/systemd/runxin-backup.sh /usr/local/bin/runxin-backup
#
# Environment:
#   BACKUP_DIR  where backups go (default /var/backups/runxin; must exist, mode 0700)
#   KEEP_DAYS   days of backups to keep (default 14); older ones are deleted only after
#               this backup succeeded, so a failing backup never deletes the last good one
#   RUNXIN      the runxin command (default /opt/runxin/bin/runxin)
#
# `runxin backup` writes under a hidden temporary name and renames the file only when it is
# complete and checked, and never overwrites an existing file (docs/backup.md).
set -euo pipefail
umask 077

BACKUP_DIR="${BACKUP_DIR:-/var/backups/runxin}"
KEEP_DAYS="${KEEP_DAYS:-14}"
RUNXIN="${RUNXIN:-/opt/runxin/bin/runxin}"

fail() {
    echo "runxin-backup: $*" >&2
    exit 1
}

[[ "$KEEP_DAYS" =~ ^[1-9][0-9]*$ ]] || fail "KEEP_DAYS must be a whole number of days >= 1, got '$KEEP_DAYS'"
[[ -d "$BACKUP_DIR" ]] || fail "the backup directory $BACKUP_DIR does not exist"

# A SQLite copy is a .db file; a PostgreSQL backup is a pg_dump custom archive (.dump).
case "${RUNXIN_DATABASE_URL:-}" in
    postgres://* | postgresql://* | postgresql+asyncpg://*) ext=dump ;;
    *) ext=db ;;
esac
# Date and time, so that a second run on the same day never collides with the first.
target="$BACKUP_DIR/runxin-$(date +%Y-%m-%d-%H%M%S).$ext"

"$RUNXIN" backup "$target"
echo "runxin-backup: wrote $target ($(du -h -- "$target" | cut -f1))"

# Prune by age (minutes, so "14 days" means 14 x 24 hours), never the backup just written.
removed=0
while IFS= read -r -d '' old; do
    [[ "$old" == "$target" ]] && continue
    rm -f -- "$old"
    removed=$((removed + 1))
done < <(find "$BACKUP_DIR" -maxdepth 1 -type f \( -name 'runxin-*.db' -o -name 'runxin-*.dump' \) \
    -mmin +$((KEEP_DAYS * 24 * 60)) -print0)
echo "runxin-backup: removed $removed backup(s) older than $KEEP_DAYS days"
