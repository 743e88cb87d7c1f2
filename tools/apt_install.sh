#!/bin/sh
# Install the Debian packages a make target needs, when they are missing: as root with apt-get,
# otherwise name them and fail. CI starts from a clean machine and runs `make test` only, so
# each target that needs a package asks for it through this.
# Usage: apt_install.sh WHO PACKAGE...   (WHO starts the lines it prints)
who=$1
shift
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "$who: missing packages:$missing (as root: apt-get install --no-install-recommends $*)"
    exit 1
fi
echo "$who: installing$missing"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
