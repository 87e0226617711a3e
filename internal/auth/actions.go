package auth

import "context"

// Authorizer decides whether the principal in ctx may perform action (an
// IAM action name such as ActionReadFromRepository) on resource, an ARN or
// "*" for actions without a resource. It returns a fault.AccessDenied error
// to refuse. Every surface (control plane, console, native formats) asks
// one; *authz.Authorizer is the one coffer wires.
type Authorizer interface {
	Authorize(ctx context.Context, action, resource string) error
}

// Action names, exactly as IAM policies and the audit log spell them. The
// control plane builds its own as "codeartifact:" + the operation name, so
// only the actions checked elsewhere (the native formats and the console)
// are listed here.
const (
	// Data plane: the native protocols.
	ActionReadFromRepository    = "codeartifact:ReadFromRepository"
	ActionPublishPackageVersion = "codeartifact:PublishPackageVersion"
	ActionPutPackageMetadata    = "codeartifact:PutPackageMetadata"

	// Domains and repositories.
	ActionListDomains                = "codeartifact:ListDomains"
	ActionDescribeDomain             = "codeartifact:DescribeDomain"
	ActionGetDomainPermissionsPolicy = "codeartifact:GetDomainPermissionsPolicy"
	ActionListRepositoriesInDomain   = "codeartifact:ListRepositoriesInDomain"
	ActionDescribeRepository         = "codeartifact:DescribeRepository"
	ActionGetRepositoryEndpoint      = "codeartifact:GetRepositoryEndpoint"

	// Package groups.
	ActionListPackageGroups         = "codeartifact:ListPackageGroups"
	ActionGetAssociatedPackageGroup = "codeartifact:GetAssociatedPackageGroup"

	// Authorization tokens: GetAuthorizationToken also needs the STS
	// permission ActionGetServiceBearerToken.
	ActionGetAuthorizationToken = "codeartifact:GetAuthorizationToken"
	ActionGetServiceBearerToken = "sts:GetServiceBearerToken"

	// Packages, versions and assets.
	ActionListPackages                   = "codeartifact:ListPackages"
	ActionDescribePackage                = "codeartifact:DescribePackage"
	ActionPutPackageOriginConfiguration  = "codeartifact:PutPackageOriginConfiguration"
	ActionListPackageVersions            = "codeartifact:ListPackageVersions"
	ActionDescribePackageVersion         = "codeartifact:DescribePackageVersion"
	ActionListPackageVersionAssets       = "codeartifact:ListPackageVersionAssets"
	ActionGetPackageVersionAsset         = "codeartifact:GetPackageVersionAsset"
	ActionGetPackageVersionReadme        = "codeartifact:GetPackageVersionReadme"
	ActionListPackageVersionDependencies = "codeartifact:ListPackageVersionDependencies"
	ActionUpdatePackageVersionsStatus    = "codeartifact:UpdatePackageVersionsStatus"
	ActionDeletePackageVersions          = "codeartifact:DeletePackageVersions"
	ActionDisposePackageVersions         = "codeartifact:DisposePackageVersions"
)
