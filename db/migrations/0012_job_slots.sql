CREATE TABLE `job_slots` (
	`job` text NOT NULL,
	`slot` text NOT NULL,
	`instance` text NOT NULL,
	`claimed_at` integer NOT NULL,
	PRIMARY KEY(`job`, `slot`)
);
