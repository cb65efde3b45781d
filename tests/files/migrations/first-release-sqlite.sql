-- The schema credkit's first release (before Alembic) made on SQLite, from sqlite_master.
CREATE TABLE users (
	id INTEGER NOT NULL, 
	user_id VARCHAR(36) NOT NULL, 
	external_id VARCHAR(255), 
	employee_id VARCHAR(255), 
	email VARCHAR(320), 
	email_key VARCHAR(320), 
	first_name VARCHAR(255) NOT NULL, 
	last_name VARCHAR(255) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT user_status CHECK (status in ('active', 'suspended')), 
	UNIQUE (user_id), 
	UNIQUE (external_id), 
	UNIQUE (email_key)
);
CREATE TABLE import_runs (
	id INTEGER NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	operator VARCHAR(255) NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	file_name VARCHAR(1000) NOT NULL, 
	file_sha256 VARCHAR(64) NOT NULL, 
	options JSON NOT NULL, 
	counts JSON NOT NULL, 
	undone_by INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(undone_by) REFERENCES import_runs (id)
);
CREATE TABLE credentials (
	id INTEGER NOT NULL, 
	user_pk INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	credential_key VARCHAR(400) NOT NULL, 
	card_type VARCHAR(100), 
	facility_code VARCHAR(20), 
	card_number VARCHAR(20), 
	card_number_hex VARCHAR(20), 
	license_plate VARCHAR(20), 
	entry_code VARCHAR(16), 
	status VARCHAR(16) NOT NULL, 
	modified DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT credential_kind CHECK (kind in ('card', 'license_plate', 'entry_code')), 
	CONSTRAINT credential_status CHECK (status in ('active', 'inactive')), 
	FOREIGN KEY(user_pk) REFERENCES users (id), 
	UNIQUE (credential_key)
);
CREATE INDEX ix_credentials_user_pk ON credentials (user_pk);
CREATE UNIQUE INDEX one_entry_code_per_user ON credentials (user_pk) WHERE kind = 'entry_code';
CREATE TABLE credential_history (
	id INTEGER NOT NULL, 
	run_id INTEGER, 
	"row" INTEGER, 
	credential_key VARCHAR(400) NOT NULL, 
	action VARCHAR(16) NOT NULL, 
	"before" JSON, 
	"after" JSON, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES import_runs (id)
);
CREATE INDEX ix_credential_history_run_id ON credential_history (run_id);
