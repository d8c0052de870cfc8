from . import metrics, webhook
