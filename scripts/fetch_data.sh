#!/usr/bin/env bash
# Fetches the training runner's two data sets (docs/training.md, "Data sets")
# into a cache directory, offline but for Debian's package mirror:
#   digits.csv.gz  from python3-sklearn 1.2.1+dfsg-1 (UCI handwritten digits)
#   devil.dict.dz  from dict-devil 1.0-13.1 (The Devil's Dictionary, dictzip)
# Each .deb is downloaded with `apt-get download`, checked against its pinned
# SHA-256, unpacked with `dpkg -x`, and the one file taken from it is checked
# again before it is moved into place. Does nothing when both files are
# already there and correct.
#
# Usage: scripts/fetch_data.sh [DIR]
#   DIR defaults to $FPSIM_DATA_DIR, else data/ in the repository (git-ignored).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-${FPSIM_DATA_DIR:-$repo/data}}

# name  package=version  path in the package  SHA-256 of the file  SHA-256 of the .deb
datasets=(
  "digits.csv.gz python3-sklearn=1.2.1+dfsg-1 usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
   46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a
   ca0c6be401d14871c7e93cfdd8d1f561595dc65e6e2ad2501d568aee7f7efc58"
  "devil.dict.dz dict-devil=1.0-13.1 usr/share/dictd/devil.dict.dz
   995ca92760d677965cb2780e78b808e982f9d49e8c12d795c1854476bbf13819
   6a535684def2a1f70cd42da16d12d43f0e9dc3e54e4a329178eebab3170e3154"
)

die() {
  echo "fetch_data.sh: $*" >&2
  exit 1
}

# True when FILE exists and its SHA-256 is HASH (sha256sum -c reads "HASH  FILE").
hash_ok() {
  [[ -f $2 ]] && echo "$1  $2" | sha256sum -c --status - 2>/dev/null
}

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
apt_opts=()
# As root, apt drops to the _apt user, which cannot write into our private temporary folder.
[[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
updated=0

# apt-get download PKG=VERSION into $tmp; runs `apt-get update` once when the first try fails.
try_download() {
  (cd "$tmp" && apt-get download -q "${apt_opts[@]}" "$1" >/dev/null 2>"$tmp/apt-get.err")
}
download() {
  try_download "$1" && return 0
  if ((!updated)); then
    updated=1
    echo "apt-get download $1 failed; running apt-get update once"
    "${sudo_cmd[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    try_download "$1" && return 0
  fi
  die "cannot download Debian package $1 with apt-get download ($(grep -m1 '^E:' "$tmp/apt-get.err" || tail -n1 "$tmp/apt-get.err")); a Debian bookworm package list and a reachable mirror are needed"
}

mkdir -p "$dir" || die "cannot create $dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sums=""
for entry in "${datasets[@]}"; do
  read -r name package path file_hash deb_hash <<<"${entry//$'\n'/ }"
  target=$dir/$name
  sums+="$file_hash  $name"$'\n'
  if hash_ok "$file_hash" "$target"; then
    echo "$target: present, SHA-256 verified"
    continue
  fi
  [[ -e $target ]] && echo "$target: SHA-256 mismatch, fetching it again"
  download "$package"
  deb=$(ls "$tmp"/"${package%%=*}"_*.deb)
  hash_ok "$deb_hash" "$deb" || die "$(basename "$deb"): SHA-256 $(sha256sum "$deb" | cut -d' ' -f1), expected $deb_hash"
  dpkg -x "$deb" "$tmp/${package%%=*}" || die "dpkg -x $(basename "$deb") failed"
  extracted=$tmp/${package%%=*}/$path
  hash_ok "$file_hash" "$extracted" || die "$path in $(basename "$deb"): SHA-256 mismatch, expected $file_hash"
  # Copy beside the target, then rename: the cache never holds a partial file under its real name.
  if ! { cp "$extracted" "$dir/.$name.part" && mv -f "$dir/.$name.part" "$target"; }; then
    rm -f "$dir/.$name.part"
    die "cannot write $target"
  fi
  echo "$target: fetched from $(basename "$deb")"
done

# The final check of both files, as sha256sum -c reports it.
(cd "$dir" && printf '%s' "$sums" | sha256sum -c -) || die "verification failed in $dir"
