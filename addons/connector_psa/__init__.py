from . import adapters, controllers, models, report, wizards
