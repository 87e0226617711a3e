// Package policy implements the AWS IAM policy language: parsing and
// validating JSON policy documents (identity, resource and role-trust
// policies) and evaluating requests against them the way AWS documents it.
//
// Evaluation order (Evaluate):
//
//  1. Every statement of every policy is checked for applicability: its
//     Action/NotAction must match the request action (case-insensitive,
//     with * and ? wildcards), its Resource/NotResource the resource ARN
//     (case-sensitive wildcards, after policy-variable substitution; a
//     resource-policy statement may omit Resource), its Principal/NotPrincipal
//     the caller (resource and trust policies; the NotPrincipal of a Deny
//     spares a caller only when its account, its role for a role session,
//     and the caller itself are all listed), and all of its conditions
//     must hold (operators ANDed, keys within an operator ANDed, values of a
//     key ORed).
//  2. An applicable Deny in any policy is an explicit deny; it wins over
//     everything and is reported.
//  3. Otherwise, for a caller in the resource's account, an applicable Allow
//     in an identity policy, or in a resource policy naming the caller (not
//     merely its account), allows the request. A resource policy that names
//     only the caller's account delegates to that account, so the caller
//     also needs an identity-policy Allow.
//  4. For a caller from another account both an identity-policy Allow and a
//     resource-policy Allow are required.
//  5. Anything else is an implicit deny.
//
// Permission boundaries, session policies and SCPs are out of scope.
package policy
