#!/usr/bin/env bash
# Slurm smoke test for sharded sweeps (docs/sweep.md, "Slurm job array").
#
# On one Debian 12 machine, as root: installs Slurm and munge from Debian's
# packages, starts munged, slurmctld and slurmd on loopback, submits a
# small sweep as a real 4-task job array plus a merge job that depends on
# it (afterok), waits, and checks the merged output equals an unsharded
# sweep byte for byte. Stops only the daemons it started. Not run in CI.
#
#   cargo build --release && sudo scripts/slurm-smoke.sh
#
# Environment: CASCADE (binary, default target/release/cascade),
# WORK (scratch directory, default /tmp/cascade-slurm-smoke).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CASCADE=${CASCADE:-$ROOT/target/release/cascade}
WORK=${WORK:-/tmp/cascade-slurm-smoke}
CONF_DIR=$WORK/etc
SHARDS=4

say() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (installs packages, starts daemons)"
[ -x "$CASCADE" ] || die "no $CASCADE: run cargo build --release first"
[ -d /sys/fs/cgroup ] || die "slurmd needs a cgroup filesystem at /sys/fs/cgroup"

say "packages"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
fi
slurmctld -V

STARTED=()
cleanup() {
  # Stop only what this script started, by pid, newest first.
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    kill "${STARTED[i]}" 2>/dev/null || true
    wait "${STARTED[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

rm -rf "$WORK" && mkdir -p "$CONF_DIR" "$WORK/spool/ctld" "$WORK/spool/d" "$WORK/logs"
munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

say "munge"
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null; then mungekey --create --force; else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 755 /run/munge
if ! munge_ok; then
  runuser -u munge -- munged --foreground >"$WORK/logs/munged.log" 2>&1 &
  STARTED+=($!)
  for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
fi
munge_ok || die "munge does not work"

say "slurm.conf (one node, loopback)"
cat >"$CONF_DIR/slurm.conf" <<EOF
ClusterName=smoke
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=$WORK/spool/ctld
SlurmdSpoolDir=$WORK/spool/d
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/logs/slurmctld.log
SlurmdLogFile=$WORK/logs/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=smoke Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$CONF_DIR/slurm.conf

say "slurmctld, slurmd"
slurmctld -D -f "$SLURM_CONF" >"$WORK/logs/slurmctld.out" 2>&1 &
STARTED+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$WORK/logs/slurmd.out" 2>&1 &
STARTED+=($!)
for _ in $(seq 100); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
sinfo
[ "$state" = idle ] || die "node not idle (state '$state'); see $WORK/logs"

# The sweep: 4 db pool sizes × 4 seeds = 16 runs, 4 per shard.
SWEEP=(sweep "$ROOT/scenarios/sweep-pool.toml" -L services.db.threads 4,6,8,12
  --reps 4 --set duration=20s)

say "job array ($SHARDS tasks) + merge job"
cat >"$WORK/sweep-array.sbatch" <<EOF
#!/bin/bash
#SBATCH --job-name=cascade-sweep
#SBATCH --array=0-$((SHARDS - 1))
#SBATCH --cpus-per-task=1
#SBATCH --output=$WORK/logs/sweep-%A_%a.out
set -euo pipefail
"$CASCADE" ${SWEEP[*]} --jobs "\${SLURM_CPUS_PER_TASK:-1}" \\
  --shard "\$SLURM_ARRAY_TASK_ID/\$SLURM_ARRAY_TASK_COUNT" \\
  --out "$WORK/results/shard-\$SLURM_ARRAY_TASK_ID"
EOF
cat >"$WORK/merge.sbatch" <<EOF
#!/bin/bash
#SBATCH --job-name=cascade-merge
#SBATCH --output=$WORK/logs/merge-%j.out
set -euo pipefail
"$CASCADE" merge "$WORK"/results/shard-* --out "$WORK/results/merged"
EOF
cd "$WORK"
ARRAY_ID=$(sbatch --parsable "$WORK/sweep-array.sbatch")
MERGE_ID=$(sbatch --parsable --dependency=afterok:"$ARRAY_ID" "$WORK/merge.sbatch")
echo "array job $ARRAY_ID, merge job $MERGE_ID (afterok:$ARRAY_ID)"
squeue -o '%.10i %.15j %.10T %.20E' || true

job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
for _ in $(seq 600); do
  s=$(job_state "$MERGE_ID")
  case "$s" in
    COMPLETED) break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;;
  esac
  sleep 0.5
done
echo "merge job $MERGE_ID: $s"
scontrol show job "$ARRAY_ID" | grep -E 'ArrayTaskId|JobState' | paste - - || true
for f in "$WORK"/logs/sweep-*.out "$WORK"/logs/merge-*.out; do
  [ -e "$f" ] || continue
  echo "-- $(basename "$f")"
  cat "$f"
done
[ "$s" = COMPLETED ] || die "merge job ended $s"

say "unsharded sweep, compared byte for byte"
"$CASCADE" "${SWEEP[@]}" --jobs 2 --out "$WORK/whole"
diff -r "$WORK/whole" "$WORK/results/merged" || die "merged output differs from the unsharded sweep"
(cd "$WORK" && sha256sum whole/sweep.csv results/merged/sweep.csv \
  whole/aggregate.csv results/merged/aggregate.csv whole/sweep.json results/merged/sweep.json)
echo "runs: $(ls "$WORK/whole/runs" | wc -l) unsharded, $(ls "$WORK/results/merged/runs" | wc -l) merged"
say "OK: $SHARDS-task Slurm array + merge == unsharded sweep, byte for byte"
