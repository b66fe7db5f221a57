#!/usr/bin/env bash
# Installe les paquets Debian du labo qui manquent (rien n'est réinstallé s'ils sont là).
set -euo pipefail
PACKAGES=(docker.io docker-registry busybox-static graphviz skopeo chromium nginx iproute2 openssl)

missing=()
for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "Erreur : paquets manquants (${missing[*]}) et apt-get est introuvable." >&2
    echo "Piste : ce labo s'installe sur Debian ou Ubuntu ; installez ces paquets vous-même." >&2
    exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "Erreur : paquets Debian manquants : ${missing[*]} ; il faut être root pour les installer." >&2
    echo "Piste : sudo make lab (ou : sudo apt-get install -y ${missing[*]})" >&2
    exit 1
fi
echo "Installation des paquets Debian : ${missing[*]}…"
export DEBIAN_FRONTEND=noninteractive
# Aucun service système ne doit démarrer à l'installation (nginx écouterait sur le port 80,
# dockerd sur /var/run/docker.sock) : le labo lance ses propres démons, sur 127.0.0.1.
guard=/usr/sbin/policy-rc.d
if [[ ! -e "$guard" ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$guard"
    chmod +x "$guard"
    trap 'rm -f "$guard"' EXIT
fi
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "Paquets Debian installés."
