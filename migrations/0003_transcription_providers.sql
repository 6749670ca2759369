CREATE TABLE "workspace_provider_keys" (
	"workspace_id" text NOT NULL,
	"provider" text NOT NULL,
	"key_sealed" text NOT NULL,
	"last4" text NOT NULL,
	"updated_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspace_provider_keys_workspace_id_provider_pk" PRIMARY KEY("workspace_id","provider")
);
--> statement-breakpoint
ALTER TABLE "bots" ADD COLUMN "transcription_fallback" jsonb;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "default_transcription_provider" text DEFAULT 'local' NOT NULL;--> statement-breakpoint
ALTER TABLE "workspace_provider_keys" ADD CONSTRAINT "workspace_provider_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_provider_keys" ADD CONSTRAINT "workspace_provider_keys_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;