/** Group membership: members as ephemeral nodes with data, and the live member list. */
export { GroupMember } from './group-member';
