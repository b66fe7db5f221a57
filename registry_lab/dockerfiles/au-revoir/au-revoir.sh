#!/bin/sh
cat /srv/au-revoir/message.txt
