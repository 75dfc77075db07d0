package webapi

// The complex and enum types the operations' parameters and answers use, which $metadata defines
// beside the operations. Complex types are open: the emulator declares the properties it reads or
// writes, and an answer may carry more.

// TypeDef is a complex or enum type of the mscrm namespace.
type TypeDef struct {
	Name string
	// Enum types list Members; IsFlags enums combine them ("ReadAccess, WriteAccess").
	Enum    bool
	IsFlags bool
	Members []EnumMember
	// Properties are a complex type's declared properties.
	Properties []Param
}

// EnumMember is one value of an enum type.
type EnumMember struct {
	Name  string
	Value int64
}

// OperationTypes lists the types operations refer to, for $metadata.
func OperationTypes() []TypeDef { return operationTypes }

var operationTypes = []TypeDef{
	{Name: "AccessRights", Enum: true, IsFlags: true, Members: []EnumMember{
		{"None", 0}, {"ReadAccess", 1}, {"WriteAccess", 2}, {"AppendAccess", 4}, {"AppendToAccess", 16},
		{"CreateAccess", 32}, {"DeleteAccess", 65536}, {"ShareAccess", 262144}, {"AssignAccess", 524288},
	}},
	{Name: "EndpointAccessType", Enum: true, Members: []EnumMember{{"Default", 0}, {"Internet", 1}, {"Intranet", 2}}},
	{Name: "TargetFieldType", Enum: true, Members: []EnumMember{{"All", 0}, {"ValidForCreate", 1}, {"ValidForUpdate", 2}, {"ValidForRead", 3}}},
	{Name: "PrivilegeDepth", Enum: true, Members: []EnumMember{{"Basic", 0}, {"Local", 1}, {"Deep", 2}, {"Global", 3}}},
	{Name: "OrganizationDetail", Properties: []Param{
		{Name: "OrganizationId", Type: "Edm.Guid"}, {Name: "FriendlyName", Type: "Edm.String"},
		{Name: "OrganizationVersion", Type: "Edm.String"}, {Name: "EnvironmentId", Type: "Edm.String"},
		{Name: "DatacenterId", Type: "Edm.Guid"}, {Name: "Geo", Type: "Edm.String"}, {Name: "TenantId", Type: "Edm.String"},
		{Name: "UrlName", Type: "Edm.String"}, {Name: "UniqueName", Type: "Edm.String"},
	}},
	{Name: "PrincipalAccess", Properties: []Param{{Name: "AccessMask", Type: "mscrm.AccessRights"}}},
	{Name: "RolePrivilege", Properties: []Param{
		{Name: "Depth", Type: "mscrm.PrivilegeDepth"}, {Name: "PrivilegeId", Type: "Edm.Guid"},
		{Name: "BusinessUnitId", Type: "Edm.Guid"}, {Name: "PrivilegeName", Type: "Edm.String"},
	}},
	{Name: "QueryExpression"},
}
