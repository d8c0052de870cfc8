from . import ps_ic_netting_wizard, ps_ic_recharge_wizard, ps_ic_reconcile_wizard
