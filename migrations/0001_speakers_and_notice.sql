CREATE TABLE "bot_speaker_turns" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bot_id" text NOT NULL,
	"name" text NOT NULL,
	"start_ms" integer NOT NULL,
	"end_ms" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "bots" ADD COLUMN "recording_notice" jsonb DEFAULT '{"enabled":true,"message":null}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "bot_speaker_turns" ADD CONSTRAINT "bot_speaker_turns_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bot_speaker_turns_key" ON "bot_speaker_turns" USING btree ("bot_id","start_ms","name");