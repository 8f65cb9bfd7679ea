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
  /** Open chats: hidden by reports until staff restore or delete it (`text` is empty). */
  hidden?: boolean;
}

export type Role = 'owner' | 'admin' | 'member';

export interface Member {
  /** In open chats, the member id (meaningful only in that room), never the account id. */
  user_id: UserId;
  role: Role;
  read_seq: Seq;
  joined_seq: Seq;
  profile: Profile;
  /** Open chats: when the member joined. */
  joined_at?: Millis;
  /** Open chats: joined with their real profile. */
  real?: boolean;
  /** Open chats, admins (부방장): what they may do. The owner may do everything. */
  permissions?: Permission[];
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
  /** The id that stands for me in this chat: my user id, or my member id in an open chat. */
  self_id?: UserId;
  /** Open chats: the room. */
  open?: Room | null;
}

/**
 * A chat summary as the server sends it: `members` is left out of list pages and events for
 * large chats (ask `chats.get`), and a summary with `left: true` carries little but its id.
 */
export type WireChat = Omit<ChatSummary, 'members'> & {
  members?: Member[];
  /** Sync only: messages deleted, hidden or shown again after `since`. */
  deleted_seqs?: Seq[];
  hidden_seqs?: Seq[];
  restored_seqs?: Seq[];
  /**
   * Sync with `messages` = N only: the messages stored after `since` that I can see, ascending,
   * the newest N if there were more. Not empty, it ends at `last_seq`; absent for summaries
   * past the page's message cap.
   */
  messages?: Message[];
};

// ---- open chats (오픈채팅 / 모임) -----------------------------------------------------

export type Permission = 'approve' | 'kick' | 'ban' | 'delete' | 'notice' | 'edit';
export const ALL_PERMISSIONS: readonly Permission[] = ['approve', 'kick', 'ban', 'delete', 'notice', 'edit'];

export type JoinPolicy = 'open' | 'passcode' | 'approval';
export type HistoryVisibility = 'from_join' | 'all';
export type FormFieldType = 'real_name' | 'phone' | 'company' | 'job_title' | 'text';
export const FORM_FIELD_TYPES: readonly FormFieldType[] = ['real_name', 'phone', 'company', 'job_title', 'text'];

export interface FormField {
  key: string;
  label: string;
  type: FormFieldType;
  required: boolean;
}

export interface Conditions {
  friend_of_staff: boolean;
  min_account_age_days: number;
}

export interface Notice {
  text: string;
  /** A member id. */
  by: UserId;
  at: Millis;
}

/** What anyone may see of an open chat before joining. */
export interface Room {
  chat_id: ChatId;
  code: string;
  title: string;
  description: string;
  tags: string[];
  cover: string;
  capacity: number;
  member_count: number;
  listed: boolean;
  join_policy: JoinPolicy;
  history: HistoryVisibility;
  form: FormField[];
  conditions: Conditions;
  community_cap: number | null;
  slow_mode_seconds: number;
  report_threshold: number;
  application_ttl_seconds: number;
  notice: Notice | null;
  created_at: Millis;
  last_activity_at: Millis;
}

/** Who I am in a room I create or join. */
export type RoomProfileArg =
  | { kind: 'nickname'; nickname: string; avatar?: string }
  | { kind: 'saved' }
  | { kind: 'real' };

export type ApplicationState = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

export interface Application {
  application_id: number;
  chat_id: ChatId;
  state: ApplicationState;
  profile: Profile;
  answers?: Record<string, string>;
  created_at: Millis;
  expires_at: Millis;
  decided_at: Millis | null;
  reason: string | null;
  room?: Room;
}

export interface Report {
  report_id: number;
  chat_id: ChatId;
  reporter: UserId;
  target: UserId;
  seq: Seq;
  reason: string;
  state: 'open' | 'resolved';
  created_at: Millis;
  message?: Message | null;
  /** Whether the reported message is hidden now (the server's copy in `message` has its text). */
  message_hidden?: boolean;
  target_reports_total: number;
}

export type AuditAction =
  | 'create'
  | 'edit'
  | 'approve'
  | 'reject'
  | 'kick'
  | 'ban'
  | 'unban'
  | 'delete_message'
  | 'notice'
  | 'set_role'
  | 'transfer'
  | 'resolve_report'
  | 'hide_message'
  | (string & {});

export interface AuditEntry {
  entry_id: number;
  at: Millis;
  actor: UserId | null;
  action: AuditAction;
  target: UserId | null;
  detail: Record<string, unknown> | null;
}

export interface Ban {
  ban_id: number;
  member_id: UserId;
  profile: Profile | null;
  reason: string | null;
  by: UserId | null;
  at: Millis;
}

export interface SavedNickname {
  nickname: string;
  avatar: string;
}

/** The settings of `open.create` (and, all optional, of `open.update`). */
export interface RoomSettings {
  title: string;
  description?: string;
  tags?: string[];
  cover?: string;
  capacity?: number;
  listed?: boolean;
  join_policy?: JoinPolicy;
  passcode?: string;
  form?: FormField[];
  conditions?: Conditions;
  community_cap?: number | null;
  history?: HistoryVisibility;
  slow_mode_seconds?: number;
  report_threshold?: number;
  application_ttl_seconds?: number;
}

export type RoomRef = { code: string } | { chat_id: ChatId };

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
    /** `since` and `pos`: one position, or one per shard on a server split into shards. */
    /** `messages`: how many of each changed chat's newest messages to list (0–200, default 0). */
    args: { since: number | number[]; limit?: number; messages?: number };
    result: {
      pos: number | number[];
      chats: WireChat[];
      /** Friends whose profile changed, were added or were removed. */
      friends: { friend: Profile; removed: boolean }[];
      /** My profile, if it changed on another device. */
      me: Profile | null;
      has_more: boolean;
    };
  };
  'open.create': { args: RoomSettings & { profile: RoomProfileArg }; result: { chat: WireChat } };
  'open.update': { args: Partial<RoomSettings> & { chat_id: ChatId }; result: { chat: WireChat } };
  'open.search': { args: { query: string; limit?: number; offset?: number }; result: { rooms: Room[]; has_more: boolean } };
  'open.popular': { args: { limit?: number; offset?: number }; result: { rooms: Room[]; has_more: boolean } };
  'open.preview': {
    args: RoomRef;
    result: { room: Room; member: boolean; banned: boolean; application: Application | null };
  };
  'open.join': {
    args: RoomRef & { profile: RoomProfileArg; passcode?: string; answers?: Record<string, string> };
    result: { chat?: WireChat; application?: Application };
  };
  'open.applications': { args: { chat_id: ChatId; state?: ApplicationState }; result: { applications: Application[] } };
  'open.decide': {
    args: { chat_id: ChatId; application_id: number; approve: boolean; reason?: string };
    result: { application: Application };
  };
  'open.my_applications': { args: Record<string, never>; result: { applications: Application[] } };
  'open.cancel_application': { args: { application_id: number }; result: { application: Application } };
  'open.set_role': {
    args: { chat_id: ChatId; member_id: UserId; role: 'admin' | 'member'; permissions?: Permission[] };
    result: { member: Member };
  };
  'open.transfer': { args: { chat_id: ChatId; member_id: UserId }; result: { chat: WireChat } };
  'open.kick': { args: { chat_id: ChatId; member_id: UserId; reason?: string }; result: Record<string, never> };
  'open.ban': { args: { chat_id: ChatId; member_id: UserId; reason?: string }; result: { ban: Ban } };
  'open.unban': { args: { chat_id: ChatId; ban_id: number }; result: Record<string, never> };
  'open.bans': { args: { chat_id: ChatId }; result: { bans: Ban[] } };
  'open.notice': { args: { chat_id: ChatId; text: string }; result: { chat: WireChat } };
  'open.report': {
    args: { chat_id: ChatId; seq?: Seq; member_id?: UserId; reason: string };
    result: { report_id: number };
  };
  'open.reports': { args: { chat_id: ChatId; state?: 'open' | 'resolved' }; result: { reports: Report[] } };
  'open.resolve': {
    args: { chat_id: ChatId; report_id: number; action: 'dismiss' | 'restore' | 'delete' };
    result: Record<string, never>;
  };
  'open.audit': {
    args: { chat_id: ChatId; before?: number; limit?: number };
    result: { entries: AuditEntry[]; has_more: boolean };
  };
  'open.nickname.get': { args: Record<string, never>; result: { nickname: SavedNickname | null } };
  'open.nickname.set': { args: { nickname: string; avatar?: string }; result: { nickname: SavedNickname } };
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

/**
 * Unread counts after a batch of reads: messages with seq from steps[i][0] up to the next
 * step (the last runs to until_seq) have steps[i][1] members who have not read them.
 */
export interface UnreadCounts {
  until_seq: Seq;
  steps: [Seq, number][];
}

/** Every server event and its data. */
export interface Events {
  hello: Hello;
  'message.new': { message: Message };
  'message.deleted': { message: Message };
  /**
   * Read pointers that moved; one event lists a chat's receipts committed together. Chats
   * of more than 100 members send `unread` (the counts the batch changed) to everyone and
   * `reads` only to the reader's own devices.
   */
  'chat.read': { chat_id: ChatId; reads?: { user_id: UserId; read_seq: Seq }[]; unread?: UnreadCounts };
  'chat.updated': { chat: WireChat };
  'chat.removed': { chat_id: ChatId };
  'profile.updated': { profile: Profile };
  'friends.updated': { friend: Profile; removed: boolean };
  'session.revoked': { device_id: number };
  'open.updated': { room: Room };
  'open.application': { application: Application };
  'message.updated': { message: Message };
  /** The live stream missed changes (a cluster node lost a batch): catch up with `sync`. */
  'sync.needed': Record<string, never>;
}

export type EventName = keyof Events;

/** An event as it arrives, tagged by name so a switch narrows `data`. */
export type ServerEvent = {
  [E in EventName]: { event: E; pos?: number; shard?: number; data: Events[E] };
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
  | 'internal'
  | 'room_not_found'
  | 'banned'
  | 'room_full'
  | 'wrong_passcode'
  | 'conditions_not_met'
  | 'membership_cap'
  | 'application_not_found'
  | 'application_expired'
  | 'slow_mode'
  | 'member_not_found';

export interface WireError {
  code: ErrorCode | (string & {});
  message: string;
}

export type Frame =
  | { id: number | string | null; ok: true; result: unknown }
  | { id: number | string | null; ok: false; error: WireError }
  | ServerEvent;
