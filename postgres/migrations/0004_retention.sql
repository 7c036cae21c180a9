-- Retention finds a tenant's chats by when they ended and its files by when
-- they were uploaded; erasure finds a client's sessions and files.
CREATE INDEX sessions_ended ON sessions (tenant, ended) WHERE ended IS NOT NULL;
CREATE INDEX sessions_client ON sessions (tenant, app_id, client_id, created);
CREATE INDEX files_created ON files (tenant, created);
CREATE INDEX files_client ON files (tenant, app_id, client_id);
