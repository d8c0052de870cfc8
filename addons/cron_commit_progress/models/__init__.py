from . import ir_cron
