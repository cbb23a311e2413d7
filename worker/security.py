"""Kafka connection security from Settings: TLS context and SASL options for aiokafka clients."""

from __future__ import annotations

import ssl
from typing import Any

from worker.settings import Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A client TLS context for SSL and SASL_SSL (CA file, optional client certificate)."""
    if settings.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.ssl_cafile or None)
    context.check_hostname = settings.ssl_check_hostname
    if settings.ssl_certfile:
        context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile or None)
    return context


def check(settings: Settings) -> None:
    """Refuse a security configuration that cannot work, naming the variables at fault."""
    protocol, mechanism = settings.security_protocol, settings.sasl_mechanism
    if protocol not in PROTOCOLS:
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol!r}: not one of {PROTOCOLS}")
    if protocol.startswith("SASL_"):
        if mechanism not in MECHANISMS:
            raise ValueError(f"KAFKA_SASL_MECHANISM={mechanism!r}: not one of {MECHANISMS}")
        if not (settings.sasl_username and settings.sasl_password):
            raise ValueError(
                "SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or their _FILE forms)"
            )
    if settings.ssl_keyfile and not settings.ssl_certfile:
        raise ValueError("KAFKA_SSL_KEYFILE is set but KAFKA_SSL_CERTFILE is not")


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for aiokafka clients (producer, consumer, admin)."""
    check(settings)
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
        "ssl_context": ssl_context(settings),
    }
    if settings.security_protocol.startswith("SASL_"):
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password,
        }
    return options
