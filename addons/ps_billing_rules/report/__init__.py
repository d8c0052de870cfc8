from . import ps_wip_report
