namespace ThrillSuite.Grpc;

/// <summary>gRPC status codes, numbered as in the gRPC specification.</summary>
public enum StatusCode
{
    OK = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

public readonly record struct Status(StatusCode StatusCode, string Detail)
{
    public static readonly Status DefaultSuccess = new(StatusCode.OK, "");
}

public sealed class RpcException(Status status, Metadata? trailers = null) : Exception(FormatMessage(status))
{
    public RpcException(StatusCode code, string detail) : this(new Status(code, detail)) { }

    public Status Status { get; } = status;
    public StatusCode StatusCode => Status.StatusCode;
    public Metadata Trailers { get; } = trailers ?? new Metadata();

    static string FormatMessage(Status s) => $"Status(StatusCode=\"{s.StatusCode}\", Detail=\"{s.Detail}\")";
}
