"""GET /healthz: 200 when Redis answers, 503 when it does not (for load balancers)."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, jsonify

from bot import services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    try:
        services.get().store.ping()
    except redis.RedisError as e:
        log.error("health check: Redis unreachable: %s", type(e).__name__)
        return jsonify(status="unavailable", redis="down"), 503
    return jsonify(status="ok", redis="up")
