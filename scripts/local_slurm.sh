#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, with accounting, for the `slurm` tests (`make test`
# runs them when `sinfo` answers, and skips them with a reason otherwise). As root, on Debian 12
# with slurmctld, slurmd, slurmdbd, slurm-client, munge and mariadb-server installed:
#   scripts/local_slurm.sh start    start whatever is not running yet (idempotent)
#   scripts/local_slurm.sh stop     stop what `start` started, by the pids it recorded
#   scripts/local_slurm.sh install  install the packages with apt-get, then start
set -euo pipefail

STATE=/var/lib/lottery_init-slurm   # logs, Slurm's saved state and the pids `start` recorded
CLUSTER=lottery_init   # the tests submit jobs to a cluster of this name only
MARK="# Written by lottery_init's scripts/local_slurm.sh"
PACKAGES=(slurmctld slurmd slurmdbd slurm-client munge mariadb-server)

say() { echo "local_slurm: $*"; }

wait_for() {  # wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds, or fail saying WHAT
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$((seconds * 4))"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    say "$what did not answer within ${seconds} s; its log is in $STATE" >&2
    return 1
}

started() {  # started NAME PIDFILE: remember that `start` started NAME, for `stop`
    echo "$1 $2" >>"$STATE/started"
    say "started $1"
}

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_config() {  # write_config PATH MODE: stdin to PATH, unless PATH is someone else's
    if [ -e "$1" ] && ! grep -qF "$MARK" "$1"; then
        say "$1 exists and is not ours; leaving it (and this machine's Slurm) alone" >&2
        exit 1
    fi
    { echo "$MARK"; cat; } >"$1"
    chmod "$2" "$1"
}

configs() {
    local host cpus memory
    host=$(hostname -s)
    cpus=$(nproc)
    # Below the machine's memory, as slurmd refuses a node that claims more than it has.
    memory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
    mkdir -p /etc/slurm "$STATE/spool" "$STATE/slurmd"
    write_config /etc/slurm/slurm.conf 644 <<EOF
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
# A requeued job waits this credential lifetime before it starts again (default 120 s).
AuthInfo=cred_expire=10
StateSaveLocation=$STATE/spool
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
# Look at pending jobs every 2 s (default 60 s), so that a requeued job starts once it may.
SchedulerParameters=sched_interval=2
ReturnToService=2
MinJobAge=600
AccountingStorageType=accounting_storage/slurmdbd
JobAcctGatherType=jobacct_gather/linux
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    write_config /etc/slurm/slurmdbd.conf 600 <<EOF
DbdHost=localhost
SlurmUser=root
AuthType=auth/munge
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/slurmdbd.log
EOF
}

start_munge() {
    install -d -o munge -g munge /run/munge /var/log/munge /var/lib/munge
    running /run/munge/munged.pid && return 0
    [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
    runuser -u munge -- munged
    started munge /run/munge/munged.pid
    wait_for 10 munged munge -n
}

start_mariadb() {
    install -d -o mysql -g mysql /run/mysqld
    if ! mysqladmin ping >/dev/null 2>&1; then
        # Its pid file goes where the mysql user may write.
        setsid mysqld --user=mysql --pid-file=/run/mysqld/lottery_init.pid \
            >"$STATE/mysqld.log" 2>&1 &
        started mariadb /run/mysqld/lottery_init.pid
        wait_for 60 MariaDB mysqladmin ping
    fi
    mysql <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF
}

start_slurm() {
    if ! running "$STATE/slurmdbd.pid"; then
        slurmdbd
        started slurmdbd "$STATE/slurmdbd.pid"
    fi
    wait_for 60 slurmdbd sacctmgr -n list cluster
    sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER" ||
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
    if ! running "$STATE/slurmctld.pid"; then
        slurmctld
        started slurmctld "$STATE/slurmctld.pid"
    else
        scontrol reconfigure  # a running controller reads slurm.conf as just written
    fi
    if ! running "$STATE/slurmd.pid"; then
        slurmd
        started slurmd "$STATE/slurmd.pid"
    fi
    wait_for 60 "the node" bash -c "sinfo -h -o %T | grep -qx idle"
    say "one node up ($(sinfo -h -o '%n, %c CPUs, partition %P')); logs in $STATE"
}

start() {
    [ "$(id -u)" = 0 ] || { say "run me as root: I start system daemons" >&2; exit 1; }
    mkdir -p "$STATE"
    configs
    start_munge
    start_mariadb
    start_slurm
}

stop() {
    [ -s "$STATE/started" ] || { say "nothing of mine is running"; return 0; }
    # The reverse order of starting: Slurm's daemons before the database and munge they use.
    tac "$STATE/started" | while read -r name pidfile; do
        if running "$pidfile"; then
            kill "$(cat "$pidfile")"
            say "stopped $name"
        fi
    done
    rm "$STATE/started"
}

case "${1:-}" in
install)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${PACKAGES[@]}" >/dev/null
    start
    ;;
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop|install" >&2
    exit 2
    ;;
esac
