#!/usr/bin/env bash
# Installs (once), sets up and starts a Redmine server on loopback for the
# govhall end-to-end tests. Debian 12, as root. Idempotent: run it as often as
# you like; each phase is skipped when already done.
#
#   .ci/redmine.sh [PORT]            (default port 3300)
#
# Writes ${GOVHALL_REDMINE_INFO:-/tmp/govhall-redmine.json}: url, admin
# api_key, project/tracker/status/custom field/user ids (see
# adapters/redmine_setup.rb). Server log: /tmp/govhall-redmine-PORT.log.
set -euo pipefail

PORT="${1:-3300}"
URL="http://127.0.0.1:${PORT}"
INFO="${GOVHALL_REDMINE_INFO:-/tmp/govhall-redmine.json}"
LOG="/tmp/govhall-redmine-${PORT}.log"
PIDFILE="/tmp/govhall-redmine-${PORT}.pid"
START_TIMEOUT="${GOVHALL_REDMINE_START_TIMEOUT:-120}"
REDMINE_ROOT=/usr/share/redmine
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SETUP_RB="$(cd "$HERE/.." && pwd)/adapters/redmine_setup.rb"

export RAILS_ENV=production
export DEBIAN_FRONTEND=noninteractive

now() { date +%s.%N; }
T_ALL=$(now)
T=$T_ALL
phase() { # phase NAME: prints the time since the last phase
  local t; t=$(now)
  awk -v a="$T" -v b="$t" -v n="$1" 'BEGIN { printf "redmine.sh: %-8s %6.1f s\n", n, b - a }'
  T=$t
}
die() { echo "redmine.sh: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"
[ -f "$SETUP_RB" ] || die "missing $SETUP_RB"

# --- 1. install -------------------------------------------------------------
if [ ! -d "$REDMINE_ROOT" ] || ! command -v curl >/dev/null; then
  # The package's config script asks (via dbconfig-common) for the database
  # type and whether to configure it; answer sqlite3 / yes.
  debconf-set-selections <<'EOF'
redmine redmine/current-instances string default
redmine redmine/instances/default/dbconfig-install boolean true
redmine redmine/instances/default/database-type select sqlite3
EOF
  apt-get update -q
  apt-get install -y -q --no-install-recommends redmine redmine-sqlite thin curl
  phase install
fi

cd "$REDMINE_ROOT"

# --- 2. database: migrated, default data loaded -------------------------------
# Debian's postinst already migrates and loads the default data; check cheaply
# with sqlite3 and only boot Rails for it when something is missing.
DB_YML=/etc/redmine/default/database.yml
# SQLite without a busy timeout fails a write that meets another (Redmine's own mail jobs too): wait up to 5 s.
if [ -w "$DB_YML" ] && grep -q 'adapter: *sqlite3' "$DB_YML" && ! grep -q '^ *timeout:' "$DB_YML"; then
  sed -i 's/^\( *\)adapter: *sqlite3/&\n\1timeout: 5000/' "$DB_YML"
fi
DB_FILE=""
if [ -r "$DB_YML" ]; then
  DB_DIR=$(sed -n 's/^[[:space:]]*database:[[:space:]]*//p' "$DB_YML" | head -1 | tr -d "\"'")
  DB_FILE="$DB_DIR"
  if [ -n "$DB_DIR" ] && [ ! -f "$DB_FILE" ] && [ -d "$DB_DIR" ]; then DB_FILE=""; fi
fi
sq() { sqlite3 "$DB_FILE" "$1" 2>/dev/null || echo ERR; }
need_migrate=1; need_data=1
if [ -n "$DB_FILE" ] && [ -f "$DB_FILE" ] && command -v sqlite3 >/dev/null; then
  n_mig=$(sq "select count(*) from schema_migrations")
  n_files=$(ls db/migrate | grep -c '^[0-9].*\.rb$' || true)
  [ "$n_mig" != ERR ] && [ "$n_mig" -ge "$n_files" ] && need_migrate=0
  n_trk=$(sq "select count(*) from trackers")
  [ "$n_trk" != ERR ] && [ "$n_trk" -gt 0 ] && need_data=0
fi
if [ "$need_migrate" = 1 ]; then
  bin/rails db:migrate
  phase migrate
fi
if [ "$need_data" = 1 ]; then
  n_trk=$(sq "select count(*) from trackers")
  if [ "$n_trk" = 0 ] || [ "$n_trk" = ERR ]; then
    REDMINE_LANG=en bin/rails redmine:load_default_data
    phase defaults
  fi
fi

# --- 3. govhall project, trackers, statuses, fields, users ---------------------
OUT=$(GOVHALL_REDMINE_URL="$URL" bin/rails runner "$SETUP_RB") || {
  echo "$OUT" >&2; die "setup runner failed"; }
JSON=$(printf '%s\n' "$OUT" | grep '^{' | tail -1)
[ -n "$JSON" ] || { echo "$OUT" >&2; die "setup runner printed no JSON"; }
umask 022
printf '%s\n' "$JSON" > "$INFO.tmp" && mv "$INFO.tmp" "$INFO"
KEY=$(printf '%s' "$JSON" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
[ -n "$KEY" ] || die "no api_key in $JSON"
phase setup

# --- 4. server ---------------------------------------------------------------
# Files written by root under the instance (cache, pids, logs) are given back
# to www-data, the owner Debian's package expects.
chown -R www-data:www-data /var/lib/redmine/default/tmp /var/log/redmine 2>/dev/null || true

answers() { curl -s -o /dev/null --max-time 5 "$URL/" ; }
api_ok() { curl -sf -o /dev/null --max-time 10 -H "X-Redmine-API-Key: $KEY" "$URL/issues.json?limit=1"; }

if ! answers; then
  if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
  : > "$LOG"
  setsid nohup bin/rails server -u thin -b 127.0.0.1 -p "$PORT" -P "$PIDFILE" \
    >>"$LOG" 2>&1 </dev/null &
  SERVER_PID=$!   # setsid: also its process group id
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  until api_ok; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -n 40 "$LOG" >&2
      die "server exited before answering $URL/issues.json (log: $LOG)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 40 "$LOG" >&2
      kill -- "-$SERVER_PID" 2>/dev/null || true
      die "server did not answer $URL/issues.json within ${START_TIMEOUT}s (log: $LOG)"
    fi
    sleep 0.5
  done
  phase start
fi
api_ok || { tail -n 40 "$LOG" >&2 2>/dev/null || true;
            die "$URL answers but /issues.json with the admin API key fails"; }

awk -v a="$T_ALL" -v b="$(now)" 'BEGIN { printf "redmine.sh: %-8s %6.1f s\n", "total", b - a }'
echo "redmine.sh: Redmine at $URL, info in $INFO"
