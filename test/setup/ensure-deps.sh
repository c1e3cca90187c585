#!/usr/bin/env bash
# Makes sure the machine has what the tests need: a JDK (keytool, javac) and the
# Debian `zookeeper` package (Apache ZooKeeper 3.8, the reference server),
# /usr/bin/python3 with kazoo and Curator (interop tests), openssl (TLS
# fixtures), tmux (terminal tests of the shell), and the npm dependencies. Installs the Debian packages when running as root;
# otherwise says exactly what is missing and how to install it. Silent and
# fast (well under a second) when everything is there.
set -euo pipefail

cd "$(dirname "$0")/../.."

missing_pkgs=()
problems=()

have() { command -v "$1" >/dev/null 2>&1; }

[ -x /usr/bin/java ] || missing_pkgs+=(default-jre-headless)
[ -f /usr/share/java/zookeeper.jar ] || missing_pkgs+=(zookeeper)
# The slf4j->log4j binding the harness puts on Apache's classpath for its log file.
[ -f /usr/share/java/slf4j-log4j12.jar ] || missing_pkgs+=(libslf4j-java)
[ -f /usr/share/java/log4j-1.2.jar ] || missing_pkgs+=(liblog4j1.2-java)
if [ ! -x /usr/bin/python3 ]; then
  missing_pkgs+=(python3 python3-kazoo)
elif [ ! -d /usr/lib/python3/dist-packages/kazoo ] && ! /usr/bin/python3 -c 'import kazoo' >/dev/null 2>&1; then
  missing_pkgs+=(python3-kazoo)
fi
have openssl || missing_pkgs+=(openssl)
# tmux drives zk-cli's interactive mode through a real terminal in the CLI tests.
have tmux || missing_pkgs+=(tmux)
# javac + Curator 5.4 for the recipes' interop tests (a TS lock and a Curator lock on one path).
have javac || missing_pkgs+=(default-jdk-headless)
[ -f /usr/share/java/curator-recipes.jar ] || missing_pkgs+=(libcurator-recipes-java)
# keytool ships with the JRE; a Debian JRE puts it on PATH through alternatives.
have keytool || missing_pkgs+=(default-jre-headless)

if [ ${#missing_pkgs[@]} -gt 0 ]; then
  # de-duplicate, keeping order
  mapfile -t missing_pkgs < <(printf '%s\n' "${missing_pkgs[@]}" | awk '!seen[$0]++')
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "ensure-deps: installing ${missing_pkgs[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >&2
  else
    problems+=("missing Debian packages: ${missing_pkgs[*]}")
    problems+=("  install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing_pkgs[*]}")
  fi
fi

if [ ! -d node_modules ] || [ ! -e node_modules/.bin/jest ] || [ ! -e node_modules/.bin/tsc ]; then
  problems+=("node_modules is missing or incomplete: run npm install (or npm ci)")
fi

if [ ${#problems[@]} -gt 0 ]; then
  echo "ensure-deps: the tests cannot run yet:" >&2
  printf '  %s\n' "${problems[@]}" >&2
  exit 1
fi
