#!/usr/bin/env bash
# Build kube-apiserver and kube-controller-manager from Debian's `kubernetes` source package, once,
# into a cache outside git; later runs find the binaries and return at once. Also installs etcd.
#
#   scripts/kube-build.sh            # prints the folder holding the binaries on stdout
#   RECOVEROPS_KUBE_CACHE=/some/dir scripts/kube-build.sh
#
# The recipe (../shared/ENVIRONMENT.md): Debian's Go in GOPATH mode, the generated OpenAPI file
# made with the vendored openapi-gen, Debian's reflect2 in place of the vendored one (with the
# vendored one the server segfaults on its first pretty-printed response), and version ldflags
# with the vendor/ prefix so clients see v1.20.2 rather than v0.0.0.
set -euo pipefail

CACHE="${RECOVEROPS_KUBE_CACHE:-${HOME}/.cache/recoverops/kube}"
VERSION="1.20.2"
OUT="${CACHE}/v${VERSION}"
BINARIES=(kube-apiserver kube-controller-manager)

say() { echo "kube-build: $*" >&2; }

have_binaries() {
  for name in "${BINARIES[@]}"; do
    [[ -x "${OUT}/bin/${name}" ]] || return 1
  done
  command -v etcd >/dev/null
}

if have_binaries; then
  echo "${OUT}/bin"
  exit 0
fi

mkdir -p "${CACHE}"
# One build at a time: two test sessions starting together wait for the first.
exec 9>"${CACHE}/.lock"
flock 9
if have_binaries; then
  echo "${OUT}/bin"
  exit 0
fi

started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
SOURCES=/etc/apt/sources.list.d/recoverops-deb-src.sources
if ! apt-get source --download-only --print-uris kubernetes >/dev/null 2>&1; then
  say "adding a deb-src entry for bookworm (${SOURCES})"
  cat >"${SOURCES}" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -q >&2
fi
packages=(golang-go golang-github-modern-go-reflect2-dev etcd-server openssl)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("${package}")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get install -y -q "${missing[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; }
fi
if have_binaries; then  # only etcd was missing
  echo "${OUT}/bin"
  exit 0
fi

WORK="${CACHE}/work"
rm -rf "${WORK}"
mkdir -p "${WORK}/download"
(cd "${WORK}/download" && apt-get source --download-only kubernetes >&2)
orig=$(ls "${WORK}"/download/kubernetes_*.orig.tar.gz | head -n1)
say "unpacking $(basename "${orig}")"
export GOPATH="${WORK}/gopath"
TREE="${GOPATH}/src/k8s.io/kubernetes"
mkdir -p "${TREE}"
tar -xzf "${orig}" -C "${TREE}" --strip-components=1

export GO111MODULE=off CGO_ENABLED=0 GOFLAGS= GOCACHE="${WORK}/gocache"
cd "${TREE}"

rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2

say "generating pkg/generated/openapi"
go build -o "${WORK}/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
mapfile -t dirs < <(
  grep -rl --include='*.go' -e '+k8s:openapi-gen=' pkg staging/src cmd plugin vendor/k8s.io 2>/dev/null \
    | xargs -n1 dirname | LC_ALL=C sort -u
)
inputs=()
for dir in "${dirs[@]}"; do
  case "${dir}" in
    staging/src/*) inputs+=("k8s.io/kubernetes/vendor/${dir#staging/src/}") ;;
    vendor/k8s.io/kube-openapi/*|vendor/k8s.io/code-generator/*) ;;
    *) inputs+=("k8s.io/kubernetes/${dir}") ;;
  esac
done
LC_ALL=C mapfile -t inputs < <(printf '%s\n' "${inputs[@]}" | LC_ALL=C sort -u)
say "openapi-gen over ${#inputs[@]} packages"
"${WORK}/openapi-gen" \
  --input-dirs "$(IFS=,; echo "${inputs[*]}")" \
  --output-base "${GOPATH}/src" \
  --output-package k8s.io/kubernetes/pkg/generated/openapi \
  --output-file-base zz_generated.openapi \
  --go-header-file hack/boilerplate/boilerplate.generatego.txt \
  --report-filename "${WORK}/openapi-violations.txt" >&2

prefix="k8s.io/kubernetes/vendor/k8s.io/component-base/version"
ldflags="-s -w -X ${prefix}.gitVersion=v${VERSION} -X ${prefix}.gitMajor=1"
ldflags+=" -X ${prefix}.gitMinor=20 -X ${prefix}.gitTreeState=clean"
ldflags+=" -X ${prefix}.buildDate=1970-01-01T00:00:00Z"
mkdir -p "${OUT}/bin.partial"
for name in "${BINARIES[@]}"; do
  say "building ${name}"
  go build -ldflags "${ldflags}" -o "${OUT}/bin.partial/${name}" "./cmd/${name}"
done
rm -rf "${OUT}/bin"
mv "${OUT}/bin.partial" "${OUT}/bin"
rm -rf "${WORK}"
say "built in $(($(date +%s) - started)) s"
echo "${OUT}/bin"
