#!/bin/bash
# The benchmark's harden profile as an admin writes it without a tool: the floor the tools are measured against.
# Run as root on a fresh Debian 12 host from the folder it arrived in, with files/ and admin.pub beside it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
files=$here/files
admin=benchadmin

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q ufw fail2ban python3-systemd unattended-upgrades

if ! id "$admin" >/dev/null 2>&1; then
    useradd -m -U -s /bin/bash -G sudo "$admin"
fi
install -d -m 0700 -o "$admin" -g "$admin" "/home/$admin/.ssh"
install -m 0600 -o "$admin" -g "$admin" "$here/admin.pub" "/home/$admin/.ssh/authorized_keys"

# a broken sudoers file locks sudo out: check it before it goes into place
visudo -cqf "$files/sudoers-benchadmin"
install -m 0440 "$files/sudoers-benchadmin" /etc/sudoers.d/benchadmin

install -m 0644 "$files/00-bench-sshd.conf" /etc/ssh/sshd_config.d/00-bench.conf
if ! sshd -t; then
    rm -f /etc/ssh/sshd_config.d/00-bench.conf
    echo "sshd rejects the drop-in; removed it, ssh not reloaded" >&2
    exit 1
fi
systemctl reload ssh

install -m 0644 "$files/90-bench-sysctl.conf" /etc/sysctl.d/90-bench.conf
install -m 0644 "$files/jail.local" /etc/fail2ban/jail.local
install -m 0755 "$files/bench-report.sh" /usr/local/bin/bench-report
install -m 0644 "$files/bench-report.cron" /etc/cron.d/bench-report

ufw default deny incoming
ufw default allow outgoing
for port in 22 80 443 6443; do
    ufw allow "$port/tcp"
done
ufw --force enable

# the package enabled and started it with Debian's jail; one restart reads ours
if ! systemctl is-enabled -q fail2ban; then
    systemctl enable -q fail2ban
fi
systemctl restart fail2ban

# last: enabling ufw loads /etc/ufw/sysctl.conf, which sets some of these keys back
sysctl -q -p /etc/sysctl.d/90-bench.conf
