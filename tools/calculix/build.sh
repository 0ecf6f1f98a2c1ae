#!/usr/bin/env bash
# Build CalculiX ccx 2.20 with external-behaviour (external UMAT) support.
#
# Debian's calculix-ccx binary is built without
# -DCALCULIX_EXTERNAL_BEHAVIOURS_SUPPORT, so a material named
# @ABAQUSNL_<LIB>_<FUNC> is not loaded from lib<LIB>.so.  This script gets
# Debian's source package (apt-get source calculix-ccx), builds ccx with that
# flag, checks that the binary really dlopen()s an external UMAT
# (selftest/run_selftest.sh), and installs it atomically into
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/constitutive/calculix/2.20-ext/bin/ccx
#
# A second run only checks the cached binary (well under a second) and prints
# its path.  The path is the only thing printed on stdout; progress goes to
# stderr and to <cache>/build.log.  On failure it exits non-zero with a
# one-line reason on stderr.
#
# Environment:
#   XDG_CACHE_HOME       cache root (default ~/.cache)
#   CCX_BUILD_JOBS       parallel make jobs (default 2)
#   CCX_FORCE_REBUILD=1  rebuild even when the cached binary works
# (tools/calculix/ccx.py's find_ccx() also honours CONSTITUTIVE_CCX=/path/to/ccx,
#  which bypasses this script entirely.)
set -euo pipefail

CCX_VERSION=2.20
TAG="${CCX_VERSION}-ext"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/constitutive/calculix"
PREFIX="$ROOT/$TAG"
CCX="$PREFIX/bin/ccx"
JOBS="${CCX_BUILD_JOBS:-2}"
# Only present in a binary built with -DCALCULIX_EXTERNAL_BEHAVIOURS_SUPPORT
# (external.c); used as a fast check of the cached binary.
MARKER="invalid material name"

die() { echo "build.sh: $*" >&2; exit 1; }
log() { echo "build.sh: $*" >&2; }

cached_ok() {
    [ -x "$CCX" ] || return 1
    local v
    v="$("$CCX" -v 2>/dev/null || true)"   # ccx -v exits with status 201
    case "$v" in *"Version $CCX_VERSION"*) ;; *) return 1 ;; esac
    grep -aq "$MARKER" "$CCX" || return 1
    [ -f "$PREFIX/SELFTEST_OK" ] || return 1
}

if [ "${CCX_FORCE_REBUILD:-0}" != 1 ] && cached_ok; then
    echo "$CCX"
    exit 0
fi

mkdir -p "$ROOT" || die "cannot create cache directory $ROOT"
# one build at a time
exec 9>"$ROOT/.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9 || die "cannot lock $ROOT/.lock"
fi
# another process may have finished the build while we waited
if [ "${CCX_FORCE_REBUILD:-0}" != 1 ] && cached_ok; then
    echo "$CCX"
    exit 0
fi

START=$(date +%s)
WORK="$(mktemp -d "$ROOT/.build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
LOG="$ROOT/last-build.log"
: >"$LOG"

# -- privileges for apt ------------------------------------------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        SUDO="NONE"
    fi
fi
as_root() { if [ -z "$SUDO" ]; then "$@"; else $SUDO "$@"; fi; }
apt_run() {
    [ "$SUDO" != NONE ] || die "need root (or passwordless sudo) to run apt-get $*"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$LOG" 2>&1
}

# -- build dependencies ------------------------------------------------------
DEPS=(dpkg-dev gcc gfortran make libspooles-dev libarpack2-dev liblapack-dev libblas-dev)
missing=()
for p in "${DEPS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "no apt-get on this machine; cannot install ${missing[*]}"
    log "installing build dependencies: ${missing[*]}"
    apt_run update -qq || die "apt-get update failed (no network?); see $LOG"
    apt_run install -y -qq --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed (no network?)"
fi

# -- source package ----------------------------------------------------------
# Cached under $ROOT/src so that a rebuild needs no network.
SRCCACHE="$ROOT/src"
mkdir -p "$SRCCACHE"
have_src() { ls "$SRCCACHE"/calculix-ccx_"$CCX_VERSION"-*.dsc >/dev/null 2>&1; }
has_deb_src() {
    grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
add_deb_src() {
    # Mirror the existing Debian "deb" entries as "deb-src" entries.
    local f=/etc/apt/sources.list.d/constitutive-deb-src
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' \
            /etc/apt/sources.list.d/debian.sources >"$WORK/deb-src.sources"
        as_root install -m 644 "$WORK/deb-src.sources" "$f.sources"
    elif [ -f /etc/apt/sources.list ] && grep -qE '^deb[[:space:]]' /etc/apt/sources.list; then
        sed -nE 's/^deb([[:space:]])/deb-src\1/p' /etc/apt/sources.list >"$WORK/deb-src.list"
        as_root install -m 644 "$WORK/deb-src.list" "$f.list"
    else
        die "no Debian apt source found to derive a deb-src entry from"
    fi
}
if ! have_src; then
    command -v apt-get >/dev/null 2>&1 || die "no apt-get on this machine; cannot fetch calculix-ccx source"
    if ! has_deb_src; then
        [ "$SUDO" != NONE ] || die "need root to add a deb-src entry for apt-get source"
        log "adding a deb-src entry (/etc/apt/sources.list.d/constitutive-deb-src.*)"
        add_deb_src
        apt_run update -qq || die "apt-get update failed (no network?)"
    fi
    log "downloading the calculix-ccx source package"
    if ! (cd "$SRCCACHE" && apt-get source --download-only -qq calculix-ccx >>"$LOG" 2>&1); then
        apt_run update -qq || true
        (cd "$SRCCACHE" && apt-get source --download-only -qq calculix-ccx >>"$LOG" 2>&1) \
            || die "apt-get source calculix-ccx failed (no network or no deb-src entry)"
    fi
    have_src || die "apt's calculix-ccx source is not version $CCX_VERSION ($(ls "$SRCCACHE"))"
fi
DSC="$(ls "$SRCCACHE"/calculix-ccx_"$CCX_VERSION"-*.dsc | tail -n 1)"
log "unpacking $(basename "$DSC")"
dpkg-source --no-check -x "$DSC" "$WORK/pkg" >>"$LOG" 2>&1 || die "dpkg-source -x $DSC failed"
SRC="$WORK/pkg/ccx_$CCX_VERSION/src"
[ -f "$SRC/external.c" ] || die "unexpected source layout: no $SRC/external.c"

# -- build -------------------------------------------------------------------
# Flags as in Debian's debian/rules (UPSTREAM_CFLAGS / UPSTREAM_FFLAGS) plus
# -DCALCULIX_EXTERNAL_BEHAVIOURS_SUPPORT (as upstream's Makefile_MFront).
# external.c, call_external_umat.c, call_external_umat_user.c and
# umat_abaqusnl.f are always in Makefile.inc; the flag switches their bodies
# on.  dlopen() lives in glibc (>= 2.34); -ldl is kept for older systems.
CFLAGS="-Wall -O2 -I/usr/include/spooles -DARCH=\"Linux\" -DSPOOLES -DARPACK -DMATRIXSTORAGE -DUSE_MT=1 -DCALCULIX_EXTERNAL_BEHAVIOURS_SUPPORT"
FFLAGS="-Wall -O2 -fallow-argument-mismatch"
log "building ccx $CCX_VERSION with external behaviours (make -j$JOBS; log: $LOG)"
(cd "$SRC" && make -j"$JOBS" CC=gcc FC=gfortran CFLAGS="$CFLAGS" FFLAGS="$FFLAGS" \
        LDFLAGS="-ldl" "ccx_$CCX_VERSION") >>"$LOG" 2>&1 \
    || die "make failed; last lines: $(tail -n 3 "$LOG" | tr '\n' ' ')"
BIN="$SRC/ccx_$CCX_VERSION"
[ -x "$BIN" ] || die "make produced no $BIN"
grep -aq "$MARKER" "$BIN" || die "built ccx lacks external-behaviour support"

# -- self-test: the binary must load an external UMAT ------------------------
log "self-test: loading libSELFTEST.so through @ABAQUSNL_SELFTEST_NEOHOOKE"
bash "$HERE/selftest/run_selftest.sh" "$BIN" "$WORK/selftest" >>"$LOG" 2>&1 \
    || die "self-test failed (ccx did not load the external UMAT); see $LOG"

# -- install atomically ------------------------------------------------------
END=$(date +%s)
STAGE="$WORK/stage"
mkdir -p "$STAGE/bin"
cp "$BIN" "$STAGE/bin/ccx"
strip "$STAGE/bin/ccx" 2>/dev/null || true
cp "$LOG" "$STAGE/build.log"
cat >"$STAGE/BUILDINFO" <<EOF
calculix-ccx source: $(basename "$DSC")
built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)
build seconds: $((END - START)) (make -j$JOBS)
CFLAGS: $CFLAGS
FFLAGS: $FFLAGS
LDFLAGS: -ldl
EOF
echo "ok $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$STAGE/SELFTEST_OK"
if [ -e "$PREFIX" ]; then
    mv "$PREFIX" "$WORK/old"
fi
mv "$STAGE" "$PREFIX"
log "built in $((END - START)) s"
echo "$CCX"
