"""Runbooks: one Markdown page per alert the role renders (symptoms, investigation, resolution, prevention), with
the commands of this inventory's cluster: its kubeconfig context, namespaces, jobs and the backup program's paths.
"""

from __future__ import annotations

import shlex

from vpskit.errors import VpskitError

from .apps import applications
from .rules import alert_rules

PROGRAM = "/usr/local/sbin/vpskit-backup"  # roles/backups: the program, its settings and state
SETTINGS = "/etc/vpskit-backup/config"
STATE = "/var/lib/vpskit-backup"


def _page(name: str, severity: str, what: str, symptoms: list[str], investigation: list[str], resolution: list[str],
          prevention: list[str]) -> str:
    def items(lines: list[str]) -> str:
        return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
    return (f"# {name}\n\nSeverity: **{severity}**. {what}\n\n## Symptoms\n\n" + "\n".join(f"- {s}" for s in symptoms)
            + f"\n\n## Investigation\n\n{items(investigation)}\n\n## Resolution\n\n{items(resolution)}"
            + "\n\n## Prevention\n\n" + "\n".join(f"- {p}" for p in prevention)
            + "\n\n---\nWritten by `invoke runbooks` from the inventory; edit the inventory and run it again rather "
              "than this page.\n")


def _context(v: dict, inventory: str) -> dict:
    inv = shlex.quote(inventory)
    context = v.get("k3s_context_name") or "vpskit"
    return {
        "k": f"kubectl --context {context}", "ns": v["monitoring_namespace"],
        "certs_ns": v.get("certs_namespace") or "cert-manager", "inv": inv,
        "kubeconfig": f"invoke k3s.kubeconfig -i {inv}", "verify": f"invoke backups.verify -i {inv}",
        "list": f"invoke backups.list -i {inv}", "backups_dir": v.get("backups_dir") or "/var/backups/vpskit-backup",
        "textfile": v.get("backups_textfile_dir") or "/var/lib/prometheus/node-exporter",
        "prom": f"kubectl --context {context} -n {v['monitoring_namespace']} port-forward "
                "svc/kube-prometheus-stack-prometheus 9090 (then http://localhost:9090)",
    }


def _apps(v: dict) -> str:
    return ", ".join(f"`{a['job']}` ({a['requests_metric']}, label {a['status_label']})" for a in applications(v)) \
        or "none (monitoring_apps is empty)"


def pages(v: dict, inventory: str = "inventory/hosts.yml") -> dict[str, str]:
    """Alert name -> its runbook, for every alert the role renders with these variables. Pure."""
    c = _context(v, inventory)
    k, ns = c["k"], c["ns"]
    start = f"Get the cluster's kubeconfig if this machine lacks it: `{c['kubeconfig']}`."
    targets = f"Open Prometheus (`{c['prom']}`), Status → Targets, and find the job named in the alert."
    book = {
        "ApplicationDown": (
            "An application's scrape target does not answer, or the application has no target at all.",
            ["The alert names a job and an instance (one pod down) or only a job (nothing to scrape).",
             "Users may see errors or timeouts; HighErrorRate may fire too."],
            [start, targets,
             f"Pods: `{k} get pods -A -o wide | grep <job>`; events: `{k} get events -A --sort-by=.lastTimestamp | tail -n 30`.",
             f"No target at all: is the Deployment scaled to 0 (`{k} get deploy -A`), does its Service select the "
             f"pods (`{k} get endpoints -n <namespace> <service>`), does a ServiceMonitor select the Service "
             f"(`{k} get servicemonitors -A`)? The job is the Service's name unless the ServiceMonitor sets jobLabel.",
             f"A pod that answers nothing: `{k} logs -n <namespace> <pod> --previous` and `{k} describe pod -n <namespace> <pod>`."],
            ["Restart a stuck pod: `kubectl rollout restart deployment/<name> -n <namespace>` (with the context above).",
             "Roll back a bad release: `kubectl rollout undo deployment/<name> -n <namespace>`.",
             "A renamed job: update `monitoring_apps` and run `invoke monitoring -i " + c["inv"] + "`."],
            [f"Guarded applications: {_apps(v)}.", "Readiness and liveness probes on every Deployment; two replicas "
             "where the host can afford them."]),
        "HighErrorRate": (
            "An application answers too large a share of its requests with a 5xx status.",
            ["The alert gives the job and the share of failed requests over the window."],
            [start, f"Which routes fail: in Prometheus, `sum by (path, status_code) (rate(<metric>{{job=\"<job>\"}}[5m]))`.",
             f"Logs: `{k} logs -n <namespace> deploy/<name> --since=15m | grep -i error`.",
             "A database behind it: is DatabaseDown firing too? A recent deploy: "
             f"`{k} rollout history deployment/<name> -n <namespace>`."],
            ["Roll back the last release if it started then: `kubectl rollout undo deployment/<name> -n <namespace>`.",
             "A dependency down: fix it first (its own alert and runbook)."],
            [f"Guarded applications and their metrics: {_apps(v)}.",
             "Threshold and window per application in `monitoring_apps` (error_rate_threshold, error_rate_window)."]),
        "DatabaseDown": (
            "A database exporter cannot reach its database, or no exporter of the job reports at all.",
            ["Applications using the database fail (HighErrorRate, ApplicationDown)."],
            [start, targets, f"The database's pod or service: `{k} get pods -A | grep -i -E 'postgres|pg'`; "
             f"`{k} logs -n <namespace> <pod> --tail=100`.",
             "On a host-installed PostgreSQL: `systemctl status postgresql` and `journalctl -u postgresql --since -1h`.",
             "Disk full stops PostgreSQL: is DiskAlmostFull firing?"],
            ["Restart the database (pod or service) once the cause is known; never delete its volume.",
             f"Data lost or damaged: restore into a new database (`invoke backups.restore -i {c['inv']} --limit <host> "
             "--what postgres:<db> --target <new_db>`), check it, then switch the application over."],
            [f"Exporter jobs guarded: {', '.join(v['monitoring_database_jobs']) or 'none'} "
             "(`monitoring_database_jobs`).", "Restore tests (BackupRestoreTestFailed) prove the dumps restore."]),
        "DiskAlmostFull": (
            "A filesystem is fuller than the threshold.",
            ["Writes start failing at 100%: databases stop, logs are lost, K3s evicts pods."],
            [f"On the host: `df -h` and `du -xh / --max-depth=2 2>/dev/null | sort -h | tail -n 20`.",
             f"Backups kept locally: `{c['list']}` and `du -sh {c['backups_dir']}`.",
             "Container images: `k3s crictl images`; logs: `journalctl --disk-usage`."],
            ["Free space: `journalctl --vacuum-size=200M`, `k3s crictl rmi --prune`; fewer local backup runs "
             "(`backups_keep_daily`).", "Grow the disk or the volume when the growth is real."],
            ["Retention sized to the disk: `monitoring_retention_size`, `logging_retention`, `backups_keep_*`."]),
        "NodeDown": (
            "A node's exporter does not answer, none is scraped, or Kubernetes lists a node with no exporter on it.",
            ["With one VPS, this alert may never arrive: the heartbeat (`monitoring_heartbeat_url`) is what tells you "
             "the whole host is down."],
            [f"Can you log in? `ssh <admin>@<host>`; `{k} get nodes -o wide`.", targets,
             f"The exporter pods: `{k} get pods -n {ns} -o wide | grep node-exporter`.",
             "On the host: `systemctl status k3s` (or k3s-agent), `journalctl -u k3s --since -30m`, `uptime`, `free -m`."],
            ["A host that answers no SSH: reboot it from the provider's console, then run "
             f"`invoke check -i {c['inv']}` to see what drifted.",
             f"An exporter pod that fails: `{k} delete pod -n {ns} <pod>` lets its DaemonSet make a new one."],
            ["The heartbeat set up and its check period matching `monitoring_heartbeat_interval`."]),
        "CertificateExpiringSoon": (
            "An issued certificate expires within the limit and cert-manager has not renewed it (or it has expired).",
            ["Browsers will refuse the site once it expires."],
            [start, f"`{k} get certificates -A` and `{k} describe certificate -n <namespace> <name>`.",
             f"Orders and challenges: `{k} get orders,challenges -A`; cert-manager's log: "
             f"`{k} logs -n {c['certs_ns']} deploy/cert-manager --since=1h | grep -i error`.",
             "HTTP-01 needs port 80 reachable from outside and `/.well-known/acme-challenge/` not redirected."],
            [f"Retry now: `{k} delete certificaterequest -n <namespace> --all` (cert-manager makes a new one).",
             "Fix the issuer (ACME e-mail, DNS token) in the inventory and run `invoke certs -i " + c["inv"] + "`."],
            ["CertificateNotReady fires when an issue or renewal fails, long before the expiry."]),
        "CertificateNotReady": (
            "cert-manager has not issued or renewed a certificate (Ready is False or Unknown), or its metrics are missing.",
            ["HTTPS serves an old, a self-signed or no certificate; a first issue is still missing."],
            [start, f"`{k} describe certificate -n <namespace> <name>`: its Ready condition gives the reason.",
             f"`{k} get certificaterequests,orders,challenges -A` and `{k} describe challenge -n <namespace> <name>`.",
             f"Metrics missing: `{k} get pods,servicemonitors -n {c['certs_ns']}`; the job is "
             f"`{v['monitoring_certmanager_job']}`."],
            ["Fix what the challenge reports (DNS, port 80, rate limits of Let's Encrypt: use letsencrypt-staging "
             "while testing), then delete the failed CertificateRequest to retry."],
            ["Test new hosts against letsencrypt-staging first."]),
        "BackupTooOld": (
            "A host's last successful backup is older than the limit, no run ever succeeded, or no host reports backups.",
            ["There is no recent copy to restore from."],
            [f"The runs kept: `{c['list']}`.",
             f"Why the last run failed, on the host: `journalctl -t vpskit-backup --since -2d`.",
             f"The metrics: `cat {c['textfile']}/vpskit_backup.prom`; none at all means the program never ran "
             f"(`grep vpskit-backup /etc/cron.d/*`) or node-exporter does not read {c['textfile']}.",
             f"Settings: `cat {SETTINGS}` (secrets are in the files it names, not in it)."],
            [f"Run one now: `sudo {PROGRAM} run`, and read its last lines.", "Fix the cause (disk, database role, "
             f"off-site target), run again, then `{c['verify']}`."],
            ["BackupRestoreTestFailed and BackupOffsiteCheckFailed check that the copies restore."]),
        "BackupRestoreTestFailed": (
            "The last restore test failed, none ran recently, or a host's backups were never restore-tested.",
            ["The checklist's \"backup restoration tested\" fails: these backups may not restore."],
            [f"Run it now and read why: `{c['verify']}`.",
             f"On the host: `journalctl -t vpskit-backup --since -2d | grep verify`; "
             f"`cat {c['textfile']}/vpskit_backup_verify.prom`.",
             f"State: `ls -l {STATE}`; the runs: `{c['list']}`."],
            ["A damaged run: make a new backup (`sudo " + PROGRAM + " run`) and verify again.",
             "No restore test scheduled: set `backups_verify_schedule` and run `invoke backups -i " + c["inv"] + "`."],
            ["A person restores by hand now and then (the audit's restore drill)."]),
        "BackupOffsiteCheckFailed": (
            "restic check of the off-site repository failed, or no check ran recently.",
            ["Off-site copies may be damaged or unreachable."],
            [f"On the host: `sudo {PROGRAM} check`; `journalctl -t vpskit-backup --since -8d | grep check`.",
             f"`cat {c['textfile']}/vpskit_backup_check.prom`.",
             "The target reachable with the backup's own key: `sudo sftp -F /etc/vpskit-backup/ssh_config "
             "<user>@<target>`, then `ls` and `bye`."],
            ["A damaged repository: restic's own repair (`restic repair index`, then `restic check`) with the "
             "settings in " + SETTINGS + "; if it cannot be repaired, start a new repository.",
             "Off-site copies switched off: remove the stale vpskit_backup_check.prom."],
            ["`backups_restic_check_schedule` keeps the weekly check."]),
    }
    severities: dict[str, list[str]] = {}
    for rule in alert_rules(v):
        found = severities.setdefault(rule["alert"], [])
        if rule["labels"]["severity"] not in found:
            found.append(rule["labels"]["severity"])
    return {name: _page(name, " / ".join(levels), *book[name]) for name, levels in severities.items()}


def files(v: dict, inventory: str) -> dict[str, str]:
    """Relative path (under the inventory's folder) -> content: `<monitoring_runbooks_dir>/<Alert>.md`."""
    folder = str(v.get("monitoring_runbooks_dir") or "runbooks").rstrip("/")
    if folder.startswith(("/", "~")) or any(p in ("", ".", "..") for p in folder.split("/")) or "\n" in folder:
        raise VpskitError(f"monitoring_runbooks_dir must be a folder below the inventory's, got {folder!r}")
    return {f"{folder}/{name}.md": text for name, text in pages(v, inventory).items()}
