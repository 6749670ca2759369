/** Response schemas shared by several routes (the OpenAPI components). */
import { z } from '@hono/zod-openapi';

export const UserSchema = z
  .object({ id: z.string(), email: z.string(), name: z.string().nullable(), two_factor: z.boolean(), created_at: z.string() })
  .openapi('User');

export const WorkspaceSchema = z
  .object({ id: z.string(), name: z.string(), role: z.enum(['owner', 'admin', 'member']) })
  .openapi('Workspace');

export const TokensSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds until the access token expires' }),
  })
  .openapi('Tokens');

export const IdParamSchema = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'bot_01JD3XW5F7Q9V1R8M2K4N6P0TA' }),
});

/** JSON body helper for createRoute. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
