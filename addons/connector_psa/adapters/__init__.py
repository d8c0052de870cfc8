"""The PSA adapters: ``PsaAdapter`` (shared import, validation, correction, deletion and
provisioning orchestration) and one subclass per tool holding only its protocol."""

from . import registry
