#!/usr/bin/env bash
# hack/mariadb.sh start|stop|status|sql STATEMENTS
#
# A real MariaDB server for the doctor e2e tests (doctor --db): mariadbd on 127.0.0.1 with its own datadir,
# socket, port and pid file under .cache/mariadb (nothing of the system's MySQL is used or touched).
#   start   initialise the datadir (first time), start mariadbd, create database skoala, user skoala with a
#           random password (kept in .cache/mariadb/env, mode 0600) and the tables api, book and registry of
#           the product guide. Idempotent: a running server is left as it is.
#   stop    stop the server started here (by its pid file), and wait for it to go.
#   status  exit 0 when the server answers.
#   sql     run statements as root over the server's socket (tests create their own databases with it).
# .cache/mariadb/env holds MARIADB_HOST, MARIADB_PORT, MARIADB_USER, MARIADB_PASSWORD, MARIADB_DATABASE,
# MARIADB_SOCKET. Env: MARIADB_PORT (default 27306). Needs mariadbd (apt-get install mariadb-server).
# Runs as root: mariadbd is told --user=root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SKOALA_CACHE:-$ROOT/.cache}
DIR=$CACHE/mariadb
DATA=$DIR/data
SOCK=$DIR/mysqld.sock
PIDF=$DIR/mysqld.pid
LOG=$DIR/mysqld.log
ENVF=$DIR/env
PORT=${MARIADB_PORT:-27306}

log() { printf '[mariadb] %s\n' "$*" >&2; }

find_bin() { # NAME...: the first of the names on PATH or in /usr/sbin, /usr/bin
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    for d in /usr/sbin /usr/bin /usr/local/bin; do
      [ -x "$d/$n" ] && { echo "$d/$n"; return 0; }
    done
  done
  return 1
}

client() { "$(find_bin mariadb mysql)" --no-defaults --protocol=socket --socket="$SOCK" -uroot "$@"; }

running() {
  [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null && client -e 'SELECT 1' >/dev/null 2>&1
}

schema_sql() { # DATABASE: the tables of the product guide's `desc api/book/registry`
  cat <<EOF
CREATE TABLE IF NOT EXISTS \`$1\`.api (
  id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  is_hosted tinyint DEFAULT 0,
  registry varchar(50) NOT NULL,
  service_name varchar(200) NOT NULL,
  nacos_namespace varchar(200) NOT NULL,
  nacos_group_name varchar(200) NOT NULL,
  data_type varchar(100) NOT NULL,
  detail mediumtext NOT NULL,
  deleted_at timestamp NULL DEFAULT NULL,
  created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY idx_registry_and_service_name (registry, service_name)
);
CREATE TABLE IF NOT EXISTS \`$1\`.book (
  id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uid varchar(32) DEFAULT NULL UNIQUE,
  name varchar(50) NOT NULL UNIQUE,
  author varchar(32) NOT NULL,
  status int DEFAULT 1,
  isPublished tinyint unsigned NOT NULL DEFAULT 1,
  publishedAt timestamp NULL DEFAULT NULL,
  deleted_at timestamp NULL DEFAULT NULL,
  createdAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updatedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS \`$1\`.registry (
  id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uid varchar(32) DEFAULT NULL UNIQUE,
  workspace_id varchar(50) NOT NULL DEFAULT 'default',
  ext_id varchar(50) DEFAULT NULL,
  name varchar(50) NOT NULL,
  type varchar(50) NOT NULL,
  addresses varchar(1000) NOT NULL,
  namespaces varchar(2000) NOT NULL,
  is_hosted tinyint NOT NULL DEFAULT 0,
  deleted_at timestamp NULL DEFAULT NULL,
  created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY idx_name (name, workspace_id)
);
INSERT IGNORE INTO \`$1\`.book (uid, name, author) VALUES ('book-init', 'book-init', 'skoala');
EOF
}

start() {
  if running; then
    log "already running (pid $(cat "$PIDF"), port $(. "$ENVF"; echo "$MARIADB_PORT"))"
    return 0
  fi
  local mariadbd installdb
  mariadbd=$(find_bin mariadbd mysqld) || { log "mariadbd not found: apt-get install -y mariadb-server"; exit 1; }
  installdb=$(find_bin mariadb-install-db mysql_install_db) || { log "mariadb-install-db not found: apt-get install -y mariadb-server"; exit 1; }
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  if [ ! -d "$DATA/mysql" ]; then
    rm -rf "$DATA"
    log "initialising $DATA"
    "$installdb" --no-defaults --user=root --datadir="$DATA" --skip-test-db --auth-root-authentication-method=socket >"$DIR/install.log" 2>&1 ||
      { cat "$DIR/install.log" >&2; exit 1; }
  fi
  rm -f "$SOCK" "$PIDF"
  log "starting mariadbd on 127.0.0.1:$PORT"
  # setsid: the server outlives this script and the caller's process group (make, go test).
  setsid "$mariadbd" --no-defaults --user=root --datadir="$DATA" --socket="$SOCK" --port="$PORT" \
    --bind-address=127.0.0.1 --pid-file="$PIDF" --log-error="$LOG" --skip-name-resolve \
    --innodb-buffer-pool-size=32M --innodb-log-file-size=8M --performance-schema=OFF \
    --max-connections=50 </dev/null >/dev/null 2>&1 &
  local i
  for i in $(seq 1 120); do
    running && break
    sleep 0.25
  done
  running || { log "mariadbd did not come up; its log:"; tail -n 30 "$LOG" >&2 || true; exit 1; }
  local pw
  if [ -f "$ENVF" ]; then
    pw=$(. "$ENVF"; echo "$MARIADB_PASSWORD")
  else
    pw=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
  fi
  {
    echo "CREATE DATABASE IF NOT EXISTS skoala;"
    echo "CREATE USER IF NOT EXISTS 'skoala'@'%' IDENTIFIED BY '$pw';"
    echo "ALTER USER 'skoala'@'%' IDENTIFIED BY '$pw';"
    echo "GRANT ALL PRIVILEGES ON \`skoala%\`.* TO 'skoala'@'%';"
    schema_sql skoala
    echo "FLUSH PRIVILEGES;"
  } | client
  umask 077
  cat >"$ENVF" <<EOF
MARIADB_HOST=127.0.0.1
MARIADB_PORT=$PORT
MARIADB_USER=skoala
MARIADB_PASSWORD=$pw
MARIADB_DATABASE=skoala
MARIADB_SOCKET=$SOCK
EOF
  log "ready: 127.0.0.1:$PORT, database skoala, user skoala (password in $ENVF)"
}

stop() {
  if [ ! -f "$PIDF" ]; then
    log "not running"
    return 0
  fi
  local pid i
  pid=$(cat "$PIDF")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for i in $(seq 1 120); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop in 30s: killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDF" "$SOCK"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  sql)
    shift
    running || { log "not running (hack/mariadb.sh start)"; exit 1; }
    client -e "$*"
    ;;
  schema) # DATABASE: print the product guide's tables for DATABASE
    schema_sql "$2"
    ;;
  *)
    echo "usage: $0 start|stop|status|sql STATEMENTS|schema DATABASE" >&2
    exit 2
    ;;
esac
