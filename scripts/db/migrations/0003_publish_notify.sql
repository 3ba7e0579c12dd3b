-- Tell LoST servers (LISTEN ng911_gis_published) that a layer's published version changed,
-- whoever changed it; the notification is delivered when the publishing transaction commits.
CREATE FUNCTION gis.notify_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ng911_gis_published', NEW.layer || ':' || NEW.version_id);
    RETURN NEW;
END;
$$;
CREATE TRIGGER published_layer_notify AFTER INSERT OR UPDATE ON gis.published_layer
    FOR EACH ROW EXECUTE FUNCTION gis.notify_published();
