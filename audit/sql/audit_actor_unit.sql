-- The staff member's role(s) at the time ("unit" in an entry's detail), read by the pending INSERT itself from
-- the role tables: they are the database's own, so a MAC over them would add nothing.
CREATE OR REPLACE FUNCTION audit_actor_unit(p_user_id bigint) RETURNS text AS $$
BEGIN
    -- PL/pgSQL keeps the plan for the session: cheaper than the same subquery planned in every INSERT.
    IF p_user_id IS NULL THEN
        RETURN '';
    END IF;
    RETURN coalesce((SELECT string_agg(g.name, ', ' ORDER BY g.name COLLATE "C") FROM auth_user_groups ug
                     JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = p_user_id), '');
END;
$$ LANGUAGE plpgsql STABLE;
