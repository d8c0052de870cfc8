-- A neutralized copy (staging, support) never talks to the remote systems of production:
-- every backend is paused and every stored credential is removed.
UPDATE connector_backend
   SET state = 'paused',
       pause_reason = 'Neutralized database: credentials were removed. Set test credentials, '
                      'point the URLs at a sandbox, then Activate.';
DELETE FROM connector_secret;
