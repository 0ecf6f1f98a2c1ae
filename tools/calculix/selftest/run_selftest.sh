#!/usr/bin/env bash
# Check that a ccx binary loads an external UMAT through @ABAQUSNL_<LIB>_<FUNC>.
#
#   run_selftest.sh [CCX] [WORKDIR]
#
# Builds libSELFTEST.so from selftest_umat.c into WORKDIR, runs
# uniaxial_external.inp there with LD_LIBRARY_PATH=WORKDIR, and succeeds only
# if the UMAT printed its "SELFTEST NEOHOOKE called" line, ccx printed no
# *ERROR and the .dat file holds the reaction-force totals.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CCX="${1:-${CONSTITUTIVE_CCX:-${XDG_CACHE_HOME:-$HOME/.cache}/constitutive/calculix/2.20-ext/bin/ccx}}"
WORK="${2:-$(mktemp -d)}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
cc -O2 -fPIC -shared -o "$WORK/libSELFTEST.so" "$HERE/selftest_umat.c" -lm
cp "$HERE/uniaxial_external.inp" "$WORK/selftest.inp"
cd "$WORK"
OMP_NUM_THREADS=1 LD_LIBRARY_PATH="$WORK${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$CCX" -i selftest >selftest.out 2>&1 || { tail -n 20 selftest.out; echo "selftest: ccx failed"; exit 1; }
if grep -q '\*ERROR' selftest.out; then grep '\*ERROR' selftest.out; echo "selftest: ccx reported an error"; exit 1; fi
grep -q 'SELFTEST NEOHOOKE called' selftest.out || { echo "selftest: the external UMAT was not called"; exit 1; }
grep -q 'total force' selftest.dat || { echo "selftest: no reaction-force totals in selftest.dat"; exit 1; }
grep 'SELFTEST NEOHOOKE called' selftest.out
echo "selftest: ok ($WORK)"
