package storagetest

import "testing"

// conformance lists every test RunTests runs, by name.
var conformance = []struct {
	name string
	run  func(t *testing.T, openStore NewStore)
}{
	{"AddGetMember", testAddGetMember},
	{"ListMembersPages", testListMembersPages},
	{"RemoveMemberRevokesOnlyThatUsersTokens", testRemoveMemberRevokesOnlyThatUsersTokens},
	{"RemoveMemberErrors", testRemoveMemberErrors},
	{"RevokeTokensByID", testRevokeTokensByID},
	{"RevokeUserTokens", testRevokeUserTokens},
	{"RemoveMemberRecordsReason", testRemoveMemberRecordsReason},
	{"RevokeLeaked", testRevokeLeaked},
	{"BulkRevokeRefusedAtReturn", testBulkRevokeRefusedAtReturn},
	{"PickSeed", testPickSeed},
	{"PickSeedKeepsSeedWhenOpenFails", testPickSeedKeepsSeedWhenOpenFails},
	{"PickSeedOfRevokedToken", testPickSeedOfRevokedToken},
	{"PurgeExpiredSeeds", testPurgeExpiredSeeds},
	{"CreateToken", testCreateToken},
	{"GetToken", testGetToken},
	{"ListTokensNewestFirst", testListTokensNewestFirst},
	{"LookupToken", testLookupToken},
	{"RevokeToken", testRevokeToken},
	{"CreateTokenConcurrent", testCreateTokenConcurrent},
	{"CreateGetWorkspace", testCreateGetWorkspace},
	{"ListWorkspacesPages", testListWorkspacesPages},
	{"DeleteWorkspace", testDeleteWorkspace},
	{"CreateGetZoo", testCreateGetZoo},
	{"ListZoosPages", testListZoosPages},
	{"UpdateZoo", testUpdateZoo},
	{"DeleteZoo", testDeleteZoo},
	{"SweepTokens", testSweepTokens},
	{"SweepTokensManyBatches", testSweepTokensManyBatches},
	{"ListTokensMatching", testListTokensMatching},
	{"RecordUses", testRecordUses},
	{"CanceledContextWritesNothing", testCanceledContextWritesNothing},
	{"Ping", testPing},
	{"Counts", testCounts},
	{"EveryRevocationRevokesDescendants", testEveryRevocationRevokesDescendants},
	{"UpdateCannotRevoke", testUpdateCannotRevoke},
	{"SweepKeepsFamiliesWhole", testSweepKeepsFamiliesWhole},
	{"RollToken", testRollToken},
	{"RollKeepsOnePredecessorInGrace", testRollKeepsOnePredecessorInGrace},
	{"RevokeRevokesDescendants", testRevokeRevokesDescendants},
	{"RollReuseRevokesFamily", testRollReuseRevokesFamily},
	{"RollFamilyLifetime", testRollFamilyLifetime},
	{"UpdateToken", testUpdateToken},
	{"AuditEventsOfConcurrentWrites", testAuditEventsOfConcurrentWrites},
	{"ListAuditEvents", testListAuditEvents},
}
