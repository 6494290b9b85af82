ALTER TABLE `contacts` ADD `queue` text;--> statement-breakpoint
-- Backfill (issue 13, named queues): a phone or voicemail contact's queue is its source.queue when that is text, else its route; other channels have none. Before the index, so it is built once.
UPDATE `contacts` SET `queue` = CASE WHEN json_type(`source`, '$.queue') = 'text' THEN json_extract(`source`, '$.queue') ELSE `route` END WHERE `channel` IN ('phone', 'voicemail');--> statement-breakpoint
CREATE INDEX `contacts_queue_received` ON `contacts` (`queue`,`received_at`,`id`,`channel`,`category`) WHERE "contacts"."queue" IS NOT NULL;
