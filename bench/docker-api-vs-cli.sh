#!/bin/bash
# Usage: bench/docker-api-vs-cli.sh CLI_JS LABEL N — N migrations of a fresh 32 MiB memload container A -> B (cold), one JSON line each.
cli=$1; label=$2; n=${3:-5}
cd "$(dirname "${BASH_SOURCE[0]}")/.." && eval "$(bash lab/lab.sh env)"
for i in $(seq "$n"); do
  name=apibench-$label-$i-$$
  docker run -d --name "$name" --label migrate.lab=1 --security-opt seccomp=unconfined migrate-workload:latest --mib 32 --tick-ms 50 > /dev/null
  sleep 1
  node "$cli" "$name" --to ssh://root@10.231.0.2 --strategy cold --json 2>/dev/null |
    python3 -c "import json,sys; r=json.load(sys.stdin); p=r['phases_ms']; print(json.dumps({'label':'$label','outcome':r['outcome'],'freeze':r['freeze_ms'],'preflight':p['preflight'],'create':p['create'],'checkpoint':p['checkpoint'],'transfer':p['transfer'],'restore':p['restore']}))"
  DOCKER_HOST=unix:///run/migrate-lab/b/docker.sock docker rm -f "$name" > /dev/null 2>&1; docker rm -f "$name" > /dev/null 2>&1
done
