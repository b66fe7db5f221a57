#!/bin/sh
# Affiche le message de l'image, puis le nom de la machine (celui du conteneur).
cat "${MESSAGE_FILE:-/srv/bonjour/message.txt}"
echo "(conteneur $(hostname))"
