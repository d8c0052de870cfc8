from . import adapters, controllers, models, wizards
