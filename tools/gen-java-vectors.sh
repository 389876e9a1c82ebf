#!/bin/sh
# gen-java-vectors.sh — regenerates test/vectors/java/*.txt, the expected
# values that the C unit tests compare against, by compiling and running
# tools/java/GenVectors.java against the real JDK and Apache ZooKeeper
# classes (Debian packages zookeeper / libzookeeper-java, java 17).
# The unit tests never run this; rerun it by hand and commit the output.
set -eu
cd "$(dirname "$0")/.."
JARS=/usr/share/java
CP="$JARS/zookeeper.jar:$JARS/zookeeper-jute.jar:$JARS/slf4j-api.jar:$JARS/slf4j-nop.jar:$JARS/jackson-core.jar"
for j in zookeeper.jar zookeeper-jute.jar slf4j-api.jar slf4j-nop.jar jackson-core.jar; do
    [ -f "$JARS/$j" ] || { echo "missing $JARS/$j (apt-get install zookeeper libslf4j-java)" >&2; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
javac -nowarn -d "$TMP" -cp "$CP" tools/java/GenVectors.java
mkdir -p test/vectors/java
# extendedTypesEnabled: so that DataTree recognises TTL ephemeralOwners.
java -Dzookeeper.extendedTypesEnabled=true -cp "$TMP:$CP" GenVectors test/vectors/java
ls -l test/vectors/java
