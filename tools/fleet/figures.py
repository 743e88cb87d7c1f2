"""What the page and MQTT show of each rig and target, computed from the store.

Per target (and summed or averaged per rig):
- shares per minute over the last 1 min, 1 h and 24 h (accepted shares only: what earns);
- accepted and rejected, over the whole history kept;
- mean hash rate (the `rat` column), mean SndRes and ReqJob latency, over the last hour;
- faults in the last hour and the last fault line with its time;
- last seen (its last share, job or fault) and a state: mining (a share or job within
  QUIET_AFTER_S), fault (its last event was a fault), quiet (nothing for longer), or offline
  (the rig's session is down).
The plot: the fleet's accepted shares per minute, per rig, over the last hour (by minute) and the
last day (by quarter hour), in whole buckets (the one still running is left out).
"""
from __future__ import annotations

from typing import Any

from fleet.store import Store
from fleet.watch import RigStatus

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
QUIET_AFTER_S = 120.0
PLOTS = {"hour": (HOUR, 60.0), "day": (DAY, 900.0)}  # span, bucket


def _mean(total: float | None, count: int) -> float | None:
    return round(total / count, 1) if count and total is not None else None


def targets(store: Store, rig_id: int, now: float) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT target,"
        " SUM(accepted AND at >= ?), SUM(accepted AND at >= ?), SUM(accepted AND at >= ?),"
        " SUM(accepted), SUM(NOT accepted),"
        " SUM(CASE WHEN at >= ? THEN rate END), COUNT(CASE WHEN at >= ? THEN rate END),"
        " SUM(CASE WHEN at >= ? THEN snd_res_ms END), COUNT(CASE WHEN at >= ? THEN snd_res_ms END),"
        " MAX(at), MAX(CASE WHEN accepted THEN at END)"
        " FROM shares WHERE rig_id = ? GROUP BY target",
        (now - MINUTE, now - HOUR, now - DAY, now - HOUR, now - HOUR, now - HOUR, now - HOUR, rig_id))
    jobs = {t: (total, count, last) for t, total, count, last in store.query(
        "SELECT target, SUM(CASE WHEN at >= ? THEN req_job_ms END), COUNT(CASE WHEN at >= ? THEN req_job_ms END),"
        " MAX(at) FROM jobs WHERE rig_id = ? GROUP BY target", (now - HOUR, now - HOUR, rig_id))}
    share_jobs = {t: (total, count) for t, total, count in store.query(
        "SELECT target, SUM(req_job_ms), COUNT(req_job_ms) FROM shares"
        " WHERE rig_id = ? AND at >= ? GROUP BY target", (rig_id, now - HOUR))}
    faults = {t: (count, last) for t, count, last in store.query(
        "SELECT target, SUM(at >= ?), MAX(at) FROM faults WHERE rig_id = ? AND target IS NOT NULL"
        " GROUP BY target", (now - HOUR, rig_id))}
    found: dict[int, dict[str, Any]] = {}
    for (target, m1, h1, d1, accepted, rejected, rate_sum, rate_n, snd_sum, snd_n,
         last_share, _) in rows:
        found[target] = {
            "target": target, "per_min_1m": m1 or 0, "per_min_1h": round((h1 or 0) / 60, 2),
            "per_min_24h": round((d1 or 0) / 1440, 3), "accepted": accepted or 0,
            "rejected": rejected or 0, "hash_rate": _mean(rate_sum, rate_n),
            "snd_res_ms": _mean(snd_sum, snd_n), "last_share": last_share}
    for target in set(jobs) | set(faults):
        found.setdefault(target, {"target": target, "per_min_1m": 0, "per_min_1h": 0.0,
                                  "per_min_24h": 0.0, "accepted": 0, "rejected": 0, "hash_rate": None,
                                  "snd_res_ms": None, "last_share": None})
    result = []
    for target in sorted(found):
        t = found[target]
        job_sum, job_n, last_job = jobs.get(target, (None, 0, None))
        share_sum, share_n = share_jobs.get(target, (None, 0))
        total = (job_sum or 0) + (share_sum or 0) if (job_n or share_n) else None
        t["req_job_ms"] = _mean(total, (job_n or 0) + (share_n or 0))
        fault_count, last_fault_at = faults.get(target, (0, None))
        t["faults_1h"] = fault_count or 0
        t["last_fault"], t["last_fault_at"] = _last_fault(store, rig_id, target)
        work = max((x for x in (t["last_share"], last_job) if x is not None), default=None)
        t["last_seen"] = max((x for x in (work, last_fault_at) if x is not None), default=None)
        if last_fault_at is not None and (work is None or last_fault_at > work):
            t["state"] = "fault"
        elif work is not None and now - work <= QUIET_AFTER_S:
            t["state"] = "mining"
        else:
            t["state"] = "quiet"
        del t["last_share"]
        result.append(t)
    return result


def _last_fault(store: Store, rig_id: int, target: int | None) -> tuple[str | None, float | None]:
    where = "target = ?" if target is not None else "1"
    args = (rig_id, target) if target is not None else (rig_id,)
    row = store.query("SELECT line, at FROM faults WHERE rig_id = ? AND %s ORDER BY at DESC, id DESC LIMIT 1"
                      % where, args)
    return (row[0][0], row[0][1]) if row else (None, None)


def rig(store: Store, rig_id: int, status: RigStatus, now: float) -> dict[str, Any]:
    ts = targets(store, rig_id, now)
    if status.connection != "online":
        for t in ts:
            t["state"] = "offline"
    rates = [t["hash_rate"] for t in ts if t["hash_rate"] is not None]
    snd = store.query("SELECT AVG(snd_res_ms) FROM shares WHERE rig_id = ? AND at >= ?", (rig_id, now - HOUR))[0][0]
    req = store.query("SELECT AVG(ms) FROM (SELECT req_job_ms AS ms FROM shares WHERE rig_id = ? AND at >= ?"
                      " UNION ALL SELECT req_job_ms FROM jobs WHERE rig_id = ? AND at >= ?)",
                      (rig_id, now - HOUR, rig_id, now - HOUR))[0][0]
    faults_1h = store.query("SELECT COUNT(*) FROM faults WHERE rig_id = ? AND at >= ?", (rig_id, now - HOUR))[0][0]
    last_fault, last_fault_at = _last_fault(store, rig_id, None)
    stored_seen = store.query("SELECT last_seen FROM rigs WHERE id = ?", (rig_id,))[0][0]
    return {
        "name": status.name, "host": status.host, "port": status.port,
        "connection": status.connection, "detail": status.detail, "since": status.since,
        "looping": status.looping, "sessions": status.sessions,
        "last_seen": status.last_seen or stored_seen,
        "per_min_1m": sum(t["per_min_1m"] for t in ts),
        "per_min_1h": round(sum(t["per_min_1h"] for t in ts), 2),
        "per_min_24h": round(sum(t["per_min_24h"] for t in ts), 3),
        "accepted": sum(t["accepted"] for t in ts), "rejected": sum(t["rejected"] for t in ts),
        "hash_rate": round(sum(rates), 1) if rates else None,  # the rig's: its targets' together
        "snd_res_ms": round(snd, 1) if snd is not None else None,
        "req_job_ms": round(req, 1) if req is not None else None,
        "faults_1h": faults_1h, "last_fault": last_fault, "last_fault_at": last_fault_at,
        "targets": ts,
    }


def plot(store: Store, rig_ids: dict[str, int], now: float) -> dict[str, Any]:
    """Per span: the buckets' start times and, per rig, accepted shares per minute in each."""
    plots = {}
    for name, (span, bucket) in PLOTS.items():
        count = int(span // bucket)
        start = (now // bucket - count) * bucket  # whole buckets only: the running one would dip
        series = {}
        for rig_name, rig_id in rig_ids.items():
            values = [0.0] * count
            for index, shares in store.query(
                    "SELECT CAST((at - ?) / ? AS INTEGER), COUNT(*) FROM shares"
                    " WHERE rig_id = ? AND accepted AND at >= ? GROUP BY 1", (start, bucket, rig_id, start)):
                if 0 <= index < count:
                    values[index] = round(shares * MINUTE / bucket, 3)
            series[rig_name] = values
        plots[name] = {"start": start, "bucket_s": bucket, "rigs": series}
    return plots
