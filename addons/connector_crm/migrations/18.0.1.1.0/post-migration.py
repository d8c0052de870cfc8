"""Tax treatments name one fiscal position per legal entity (Many2many) instead of one."""


def migrate(cr, version):
    cr.execute(
        """SELECT 1 FROM information_schema.columns
           WHERE table_name = 'connector_crm_value_map' AND column_name = 'fiscal_position_id'"""
    )
    if not cr.fetchone():
        return
    cr.execute(
        """INSERT INTO connector_crm_value_map_fiscal_position_rel (value_map_id, fiscal_position_id)
           SELECT id, fiscal_position_id FROM connector_crm_value_map
           WHERE fiscal_position_id IS NOT NULL
           ON CONFLICT DO NOTHING"""
    )
