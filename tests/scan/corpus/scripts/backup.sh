#!/usr/bin/env bash
set -euo pipefail
# nightly backup of the homelab databases
mysqldump -u root -pM4riaDB-Backup! --all-databases > /backup/all.sql
mysql -u root -p nextcloud < /backup/nextcloud.sql
mysql -u root -p"$MYSQL_ROOT_PASSWORD" -e 'FLUSH LOGS'
curl -fsS -u backup:Upl0ad-Pa55 -T /backup/all.sql https://files.lab.home/backup/
curl -fsS -u "$BACKUP_USER:$BACKUP_PASSWORD" https://files.lab.home/ping
sshpass -p 'N4s-Adm1n!' rsync -a /backup/ admin@nas.lab.home:/volume1/backup/
echo "$REGISTRY_PASSWORD" | docker login -u ci --password-stdin registry.lab.home
docker login -u ci -p 'R3gistry-Pw!' registry.lab.home
echo 'pi:Raspb3rry-Pi!' | sudo chpasswd
htpasswd -b -c /etc/nginx/.htpasswd admin 'Ngx-Adm1n-pw'
psql "postgresql://backup:Pg-B4ckup-pw@db.lab.home:5432/app" -c 'select 1'
restic -r s3:https://s3.lab.home/backup --password-file /etc/restic/password backup /srv
export RESTIC_PASSWORD='Restic-Repo-Key-42'
