/** Wire types of the Modu client protocol, version 1 (docs/protocol.md). */

export type UserId = number;
export type ChatId = number;
export type Seq = number;
/** Milliseconds since the Unix epoch (UTC). */
export type Millis = number;

export interface Profile {
  user_id: UserId;
  handle: string;
  display_name: string;
  status_message: string;
  avatar: string;
}

export type MessageKind = 'text' | 'system';

export interface Message {
  chat_id: ChatId;
  seq: Seq;
  client_id: string;
  sender_id: UserId;
  kind: MessageKind;
  text: string;
  reply_to?: Seq | null;
  created_at: Millis;
  deleted: boolean;
  unread: number;
}

export type Role = 'owner' | 'admin' | 'member';

export interface Member {
  user_id: UserId;
  role: Role;
  read_seq: Seq;
  joined_seq: Seq;
  profile: Profile;
}

/** `direct`, `group`, `memo`; later versions add more kinds, shown as groups. */
export type ChatKind = 'direct' | 'group' | 'memo' | (string & {});

export interface ChatSummary {
  chat_id: ChatId;
  kind: ChatKind;
  title: string;
  created_at: Millis;
  last_seq: Seq;
  last_message?: Message | null;
  last_activity_at: Millis;
  read_seq: Seq;
  unread_count: number;
  member_count: number;
  members: Member[];
  left: boolean;
}

/**
 * A chat summary as the server sends it: `members` is left out of list pages and events for
 * large chats (ask `chats.get`), and a summary with `left: true` carries little but its id.
 */
export type WireChat = Omit<ChatSummary, 'members'> & { members?: Member[] };

export type DeviceKind = 'phone' | 'tablet' | 'pc' | 'web';

export interface Device {
  device_id: number;
  kind: DeviceKind;
  name: string;
  created_at: Millis;
  last_seen_at: Millis;
  current: boolean;
}

export interface DeviceInfo {
  kind: DeviceKind;
  name: string;
}

/** Every operation: its arguments and its result. */
export interface Ops {
  ping: { args: Record<string, never>; result: Record<string, never> };
  'auth.register': {
    args: { handle: string; password: string; display_name?: string; device: DeviceInfo };
    result: { token: string; device_id: number; profile: Profile };
  };
  'auth.login': {
    args: { handle: string; password: string; device: DeviceInfo };
    result: { token: string; device_id: number; profile: Profile };
  };
  'auth.resume': { args: { token: string }; result: { device_id: number; profile: Profile } };
  'auth.logout': { args: Record<string, never>; result: Record<string, never> };
  'devices.list': { args: Record<string, never>; result: { devices: Device[] } };
  'devices.revoke': { args: { device_id: number }; result: Record<string, never> };
  'profile.get': { args: { user_id: UserId } | { handle: string }; result: { profile: Profile } };
  'profile.update': {
    args: Partial<Pick<Profile, 'display_name' | 'status_message' | 'avatar'>>;
    result: { profile: Profile };
  };
  'friends.add': { args: { handle: string } | { user_id: UserId }; result: { friend: Profile } };
  'friends.remove': { args: { user_id: UserId }; result: Record<string, never> };
  'friends.list': { args: Record<string, never>; result: { friends: Profile[] } };
  'chats.list': {
    args: { limit?: number; before?: unknown };
    result: { chats: WireChat[]; next: unknown };
  };
  'chats.get': { args: { chat_id: ChatId }; result: { chat: WireChat } };
  'chats.direct': { args: { user_id: UserId }; result: { chat: WireChat } };
  'chats.memo': { args: Record<string, never>; result: { chat: WireChat } };
  'chats.create_group': {
    args: { title?: string; user_ids: UserId[] };
    result: { chat: WireChat };
  };
  'chats.invite': { args: { chat_id: ChatId; user_ids: UserId[] }; result: { chat: WireChat } };
  'chats.rename': { args: { chat_id: ChatId; title: string }; result: { chat: WireChat } };
  'chats.leave': { args: { chat_id: ChatId }; result: Record<string, never> };
  'messages.send': {
    args: { chat_id: ChatId; client_id: string; text: string; reply_to?: Seq };
    result: { message: Message };
  };
  'messages.history': {
    args: { chat_id: ChatId; before_seq?: Seq; after_seq?: Seq; limit?: number };
    result: { messages: Message[]; has_more: boolean };
  };
  'messages.delete': { args: { chat_id: ChatId; seq: Seq }; result: { message: Message } };
  'messages.read': { args: { chat_id: ChatId; seq: Seq }; result: { read_seq: Seq } };
  sync: {
    args: { since: number; limit?: number };
    result: { pos: number; chats: WireChat[]; friends: Profile[]; has_more: boolean };
  };
}

export type OpName = keyof Ops;
export type OpArgs<O extends OpName> = Ops[O]['args'];
export type OpResult<O extends OpName> = Ops[O]['result'];

export interface Hello {
  protocol: number;
  server: string;
  max_frame_bytes: number;
  max_text_bytes: number;
}

/** Every server event and its data. */
export interface Events {
  hello: Hello;
  'message.new': { message: Message };
  'message.deleted': { message: Message };
  'chat.read': { chat_id: ChatId; user_id: UserId; read_seq: Seq };
  'chat.updated': { chat: WireChat };
  'chat.removed': { chat_id: ChatId };
  'profile.updated': { profile: Profile };
  'friends.updated': { friend: Profile; removed: boolean };
  'session.revoked': { device_id: number };
}

export type EventName = keyof Events;

/** An event as it arrives, tagged by name so a switch narrows `data`. */
export type ServerEvent = {
  [E in EventName]: { event: E; pos?: number; data: Events[E] };
}[EventName];

export type ErrorCode =
  | 'bad_json'
  | 'bad_request'
  | 'unknown_op'
  | 'unauthenticated'
  | 'already_authenticated'
  | 'invalid_credentials'
  | 'session_revoked'
  | 'handle_taken'
  | 'invalid_handle'
  | 'weak_password'
  | 'user_not_found'
  | 'chat_not_found'
  | 'message_not_found'
  | 'forbidden'
  | 'duplicate_client_id'
  | 'delete_window_expired'
  | 'too_large'
  | 'rate_limited'
  | 'invalid_state'
  | 'unavailable'
  | 'internal';

export interface WireError {
  code: ErrorCode | (string & {});
  message: string;
}

export type Frame =
  | { id: number | string | null; ok: true; result: unknown }
  | { id: number | string | null; ok: false; error: WireError }
  | ServerEvent;
