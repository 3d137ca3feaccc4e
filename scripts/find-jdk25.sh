# Sourced by ./mvnw and ./osprey: sets JAVA_HOME to a JDK 25 or newer, or explains how to get one.
# Search order: $JAVA_HOME, /usr/lib/jvm/*, the java on PATH.
osprey_java_feature() { # prints the feature version of the java binary $1 (e.g. 25), or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}
osprey_find_jdk25() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/* "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(osprey_java_feature "$c/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$c"; export PATH="$c/bin:$PATH"; return 0
    fi
  done
  echo "osprey4j needs a JDK 25 or newer and found none (looked at \$JAVA_HOME, /usr/lib/jvm/*, and java on PATH)." >&2
  echo "Install one, e.g. Eclipse Temurin 25 (apt package temurin-25-jdk from the Adoptium repository), then set JAVA_HOME to it." >&2
  return 1
}
