#!/usr/bin/env bash
# One container image per project of the app model, built by the .NET SDK's container support (no Dockerfile,
# no Docker daemon needed for --archive), named as the Kubernetes manifests expect: {registry}/{name}:{tag}.
#
#   scripts/build-images.sh --registry ghcr.io/you/quanttrader --tag 1.0.0            # push to the registry
#   scripts/build-images.sh --registry ghcr.io/you/quanttrader --tag 1.0.0 --archive out/images   # .tar.gz per image
#
# The list of projects comes from the AppHost itself (Aspire's manifest), so a service added to AppHost.cs is built
# without touching this script. Use the same --registry/--tag with `--publisher kubernetes`.
set -euo pipefail
cd "$(dirname "$0")/.."

registry="" tag="" archive=""
while [ $# -gt 0 ]; do
  case "$1" in
    --registry) registry="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --archive) archive="$(realpath -m "$2")"; shift 2 ;;
    *) echo "unknown option $1 (--registry R --tag T [--archive DIR])" >&2; exit 2 ;;
  esac
done
[ -n "$registry" ] || { echo "--registry is required (e.g. ghcr.io/you/quanttrader)" >&2; exit 2; }
# The same default as the Kubernetes publisher: the AppHost's version. Never "latest" (a restarted pod would pull
# whatever it is then).
[ -n "$tag" ] || tag="$(dotnet msbuild QuantTrader.AppHost -getProperty:Version)"
[ "$tag" != "latest" ] || { echo "--tag latest is refused: tag images with a version" >&2; exit 2; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
dotnet run --project QuantTrader.AppHost -- --publisher manifest --output-path "$work/manifest.json" >/dev/null

# "name": { ... "type": "project.v0", ... "path": "relative/to/manifest.csproj"
awk '/^    "[^"]+": \{$/ { name=$1; gsub(/[":]/, "", name); project=0 }
     /"type": "project.v0"/ { project=1 }
     /"path": / && project { path=$2; gsub(/[",]/, "", path); print name, path; project=0 }' "$work/manifest.json" |
while read -r name path; do
  csproj="$(realpath -m "$work/$path")"
  # The registry's host goes to ContainerRegistry, the rest of it prefixes the repository name.
  host="${registry%%/*}" prefix=""
  [ "$host" != "$registry" ] && prefix="${registry#*/}/"
  args=(--os linux --arch x64 -c Release /t:PublishContainer
        "-p:ContainerRepository=${prefix}${name}" "-p:ContainerImageTag=${tag}")
  if [ -n "$archive" ]; then
    mkdir -p "$archive"
    args+=("-p:ContainerArchiveOutputPath=${archive}/${name}.tar.gz")
  else
    args+=("-p:ContainerRegistry=${host}")
  fi
  echo "== ${registry}/${name}:${tag}  (${csproj#"$PWD"/})"
  dotnet publish "$csproj" "${args[@]}"
done
