#!/usr/bin/env bash
# Toute la batterie de tests de « make test » : qualité du code, pytest (unitaires et
# intégration sur le vrai labo), puis nbval sur chaque notebook, deux fois de suite.
# Le labo de test ($REGISTRY_LAB_HOME) est arrêté et effacé à la fin, quoi qu'il arrive.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

port_in_use() {
    ! "$PY" -c 'import sys; from registry_lab.ports import port_is_free as f; sys.exit(not f(int(sys.argv[1])))' "$1"
}
if port_in_use "${REGISTRY_LAB_PORT:=5000}"; then
    wanted=$REGISTRY_LAB_PORT
    # Un port à 4 chiffres, comme 5000 : la largeur des schémas enregistrés en dépend.
    REGISTRY_LAB_PORT=$("$PY" -c 'from registry_lab.ports import port_is_free as f
print(next(p for p in range(5001, 10000) if f(p)))')
    echo "Le port $wanted est pris (votre labo ?) : le labo de test prend le port $REGISTRY_LAB_PORT."
fi
export REGISTRY_LAB_PORT

cleanup() {
    "$PY" -m registry_lab reset --yes >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== Qualité du code : ruff, mypy"
"$VENV/bin/ruff" check registry_lab tests benchmarks
"$VENV/bin/ruff" format --check registry_lab tests benchmarks
"$VENV/bin/mypy"

echo "== pytest : tests unitaires et d'intégration (vrais dockerd, vrai registry)"
"$PY" -m pytest -q tests

echo "== nbval : les notebooks, deux passages (ils doivent être rejouables)"
for pass in 1 2; do
    echo "-- passage $pass"
    "$PY" -m pytest -q -p no:cacheprovider --nbval notebooks \
        --nbval-sanitize-with notebooks/sanitize.cfg
done
