# Sourced by the tests that drive a tool from the npm registry (Redocly, Prism, tus-js-client,
# puppeteer-core): npm_tool LABEL PACKAGE VERSION [MIN_NODE] installs PACKAGE@VERSION once into
# ~/.cache/bookspace-tools and sets $tools to its prefix; without Node.js MIN_NODE+ (18) and npm
# the test is skipped (exit 77).
npm_tool() {
  local label=$1 package=$2 version=$3 min=${4:-18}
  tools=${XDG_CACHE_HOME:-$HOME/.cache}/bookspace-tools/${package##*/}-$version
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "$label: skipped, Node.js and npm are missing (docker/install-deps.sh test)" >&2; exit 77
  fi
  if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt "$min" ]; then
    echo "$label: skipped, $package $version needs Node.js $min+ (have $(node --version))" >&2; exit 77
  fi
  if [ ! -d "$tools/node_modules/$package" ]; then
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "$package@$version" >&2
  fi
}
